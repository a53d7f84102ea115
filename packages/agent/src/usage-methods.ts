// `usage.status` and `usage.cost` from what was recorded: the token counts each session keeps, and the usage each
// assistant message of a transcript carries (messages from before usage was recorded per message count as none).
import type { UsageCostResult, UsageStatusResult } from "@gateway/protocol";
import type { AgentHost } from "./agent-host.js";
import type { SessionStorage } from "./session-storage.js";

const DAY_MS = 86_400_000;

/** Register `usage.status` and `usage.cost`. */
export function registerUsageMethods(host: AgentHost, store: SessionStorage): void {
  host.registerMethod("usage.status", (): UsageStatusResult => {
    const sessions = store
      .list()
      .map((entry) => ({
        key: entry.key,
        updatedAt: entry.updatedAt,
        usage: {
          input: entry.inputTokens,
          output: entry.outputTokens,
          totalTokens: entry.inputTokens + entry.outputTokens,
        },
      }))
      .sort((a, b) => b.usage.totalTokens - a.usage.totalTokens);
    const totals = { input: 0, output: 0, totalTokens: 0 };
    for (const { usage } of sessions) {
      totals.input += usage.input;
      totals.output += usage.output;
      totals.totalTokens += usage.totalTokens;
    }
    return { updatedAt: Date.now(), totals, sessions };
  });

  host.registerMethod("usage.cost", async (params): Promise<UsageCostResult> => {
    const days = params.days ?? 30;
    const now = Date.now();
    const since = now - days * DAY_MS;
    const byDay = new Map<string, { input: number; output: number }>();
    for (const entry of store.list()) {
      if (entry.updatedAt < since) continue;
      for (const message of await store.history(entry.key, 100_000)) {
        if (message.role !== "assistant" || !message.usage || message.timestamp < since) continue;
        const date = new Date(message.timestamp).toISOString().slice(0, 10);
        const day = byDay.get(date) ?? { input: 0, output: 0 };
        day.input += message.usage.input;
        day.output += message.usage.output;
        byDay.set(date, day);
      }
    }
    const daily = [...byDay.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([date, day]) => ({ date, ...day, totalTokens: day.input + day.output, totalCost: null }));
    const totals = daily.reduce(
      (sum, day) => ({
        input: sum.input + day.input,
        output: sum.output + day.output,
        totalTokens: sum.totalTokens + day.totalTokens,
        totalCost: null,
      }),
      { input: 0, output: 0, totalTokens: 0, totalCost: null },
    );
    return {
      updatedAt: now,
      days,
      daily,
      totals,
      note: "costs are null: this gateway knows no model prices; tokens are from each assistant message's recorded usage",
    };
  });
}
