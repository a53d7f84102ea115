// Logs: the gateway's own log file, followed live (logs.tail from a byte cursor), filtered by level and text.
import { errorText, h, replace } from "../dom.js";
import type { Page, PageContext, PageDefinition } from "./page.js";

const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };
const MAX_LINES = 2_000;

interface Line {
  level: number;
  time: string;
  text: string;
  raw: string;
}

function parse(raw: string): Line {
  try {
    const entry = JSON.parse(raw) as { level?: number; time?: number; msg?: string } & Record<string, unknown>;
    const { level = 30, time, msg, pid: _pid, hostname: _hostname, ...rest } = entry;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : "";
    return { level, time: time ? new Date(time).toLocaleTimeString() : "", text: `${msg ?? ""}${extra}`, raw };
  } catch {
    return { level: 30, time: "", text: raw, raw };
  }
}

function create({ connection }: PageContext): Page {
  const level = h(
    "select",
    { id: "logs-level", onchange: () => render() },
    ...[10, 20, 30, 40, 50].map((value) =>
      h("option", { value, selected: value === 30 }, `${LEVELS[value]} and above`),
    ),
  );
  const filter = h("input", { id: "logs-filter", type: "search", placeholder: "Text", oninput: () => render() });
  const follow = h("input", { id: "logs-follow", type: "checkbox", checked: true });
  const view = h("div", { class: "log-view", role: "log", "aria-label": "Log lines", tabindex: 0 });
  const status = h("p", { class: "muted", role: "status" });
  let lines: Line[] = [];
  let cursor: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const render = () => {
    const minimum = Number(level.value);
    const text = filter.value.trim().toLowerCase();
    const shown = lines.filter((line) => line.level >= minimum && (!text || line.raw.toLowerCase().includes(text)));
    replace(
      view,
      shown
        .slice(-500)
        .map((line) =>
          h(
            "div",
            { class: `log-line level-${LEVELS[line.level] ?? "info"}` },
            h("span", { class: "log-time" }, line.time),
            h("span", { class: "log-level" }, LEVELS[line.level] ?? String(line.level)),
            h("span", {}, line.text),
          ),
        ),
    );
    if (follow.checked) view.scrollTop = view.scrollHeight;
  };

  const poll = async () => {
    if (stopped) return;
    try {
      const result = await connection.client.request("logs.tail", {
        ...(cursor !== undefined ? { cursor } : {}),
        limit: 500,
      });
      if (result.reset) lines = [];
      cursor = result.cursor;
      if (result.lines.length) {
        lines = [...lines, ...result.lines.filter(Boolean).map(parse)].slice(-MAX_LINES);
        render();
      }
      status.textContent = `${result.file} · following`;
    } catch (error) {
      status.textContent = `Paused: ${errorText(error)}`;
    }
    if (!stopped) timer = setTimeout(() => void poll(), 1_500);
  };

  const download = () => {
    const blob = new Blob([`${lines.map((line) => line.raw).join("\n")}\n`], { type: "application/x-ndjson" });
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: `gateway-${new Date().toISOString().slice(0, 19)}.log` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
  };

  const element = h(
    "section",
    { "aria-labelledby": "logs-title", class: "logs-page" },
    h("h1", { id: "logs-title" }, "Logs"),
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: "logs-level" }, "Level"),
      level,
      h("label", { for: "logs-filter" }, "Filter"),
      filter,
      h("label", { class: "inline" }, follow, " Follow"),
      h("button", { type: "button", onclick: download }, "Download"),
    ),
    status,
    view,
  );
  void poll();
  return {
    element,
    refresh: () => undefined,
    dispose() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export const logsPage: PageDefinition = { id: "logs", title: "Logs", create };
