import type { ChannelLogger } from "@gateway/plugin-sdk";
import type { webApi } from "@slack/bolt";

/** How the "the agent is working" indicator is shown. */
export type TypingMode = "auto" | "status" | "reaction" | "off";

/** A reaction comes off by itself after this when no reply came (the contract has no "typing ended"). */
const REACTION_SAFETY_MS = 120_000;
const PENDING_LIMIT = 1_000;

interface Options {
  mode: TypingMode;
  reaction: string;
  scopes: ReadonlySet<string>;
  client: webApi.WebClient;
  logger: ChannelLogger;
  /** The thread a reply to `ts` in `peer` goes to when the message is not in one (replyInThread). */
  replyThread(peer: string, ts: string): string | undefined;
}

/**
 * Slack has no bot "typing…" for messages; this shows one of two things while the agent works. Preferred: the
 * assistant status (`assistant.threads.setStatus`, "is thinking…" under the thread; Slack clears it when the reply
 * is posted), which needs the assistant:write scope and a thread to show it in. Otherwise: a reaction (`eyes`) on
 * the message being answered, removed when the reply is sent (reactions:write). A scope the app turns out not to
 * have is reported once and that way is not tried again.
 */
export class TypingIndicator {
  readonly #options: Options;
  /** The message being answered, per conversation (`peer:thread`). */
  readonly #pending = new Map<string, string>();
  /** Reactions shown, by message ts. */
  readonly #reacted = new Map<string, { peer: string; timer: NodeJS.Timeout }>();
  readonly #unavailable = new Set<"status" | "reaction">();

  constructor(options: Options) {
    this.#options = options;
  }

  /** A message came in: it is what the next indicator in its conversation is about. */
  remember(peer: string, threadId: string | undefined, ts: string): void {
    const key = `${peer}:${threadId ?? ""}`;
    this.#pending.delete(key);
    this.#pending.set(key, ts);
    if (this.#pending.size > PENDING_LIMIT) this.#pending.delete(this.#pending.keys().next().value!);
  }

  /** Show the indicator in a conversation (called again every few seconds while the agent works). */
  async show(peer: string, threadId: string | undefined): Promise<void> {
    const ts = this.#pending.get(`${peer}:${threadId ?? ""}`);
    if (!ts) return;
    const thread = threadId ?? this.#options.replyThread(peer, ts);
    const way = this.#choose(thread !== undefined);
    if (way === "status" && thread) {
      // In auto mode a thread that takes no status (not an assistant thread) still gets the reaction.
      if (!(await this.#status(peer, thread)) && this.#options.mode === "auto" && this.#choose(false) === "reaction")
        await this.#react(peer, ts);
    } else if (way === "reaction") await this.#react(peer, ts);
  }

  /** The reply was sent: take the reaction off (the status goes by itself). */
  async done(peer: string, threadId: string | undefined, replyTo: string | undefined): Promise<void> {
    const key = `${peer}:${threadId ?? ""}`;
    const ts = replyTo ?? this.#pending.get(key);
    if (this.#pending.get(key) === ts) this.#pending.delete(key);
    if (ts && this.#reacted.has(ts)) await this.#unreact(ts);
  }

  /** Take every reaction off now (the account stops). */
  async clear(): Promise<void> {
    await Promise.all([...this.#reacted.keys()].map((ts) => this.#unreact(ts)));
  }

  #choose(inThread: boolean): "status" | "reaction" | undefined {
    const { mode, scopes } = this.#options;
    const status = !this.#unavailable.has("status") && (mode === "status" || scopes.has("assistant:write"));
    const reaction = !this.#unavailable.has("reaction") && (mode === "reaction" || scopes.has("reactions:write"));
    if (mode === "off") return undefined;
    if (mode === "status") return status ? "status" : undefined;
    if (mode === "reaction") return reaction ? "reaction" : undefined;
    if (status && inThread) return "status";
    return reaction ? "reaction" : undefined;
  }

  async #status(peer: string, thread: string): Promise<boolean> {
    try {
      await this.#options.client.assistant.threads.setStatus({
        channel_id: peer,
        thread_ts: thread,
        status: "is thinking…",
      });
      return true;
    } catch (error) {
      this.#failed("status", error);
      return false;
    }
  }

  async #react(peer: string, ts: string): Promise<void> {
    if (this.#reacted.has(ts)) return;
    const timer = setTimeout(() => void this.#unreact(ts), REACTION_SAFETY_MS);
    timer.unref();
    this.#reacted.set(ts, { peer, timer });
    try {
      await this.#options.client.reactions.add({ channel: peer, timestamp: ts, name: this.#options.reaction });
    } catch (error) {
      if (slackCode(error) === "already_reacted") return;
      clearTimeout(timer);
      this.#reacted.delete(ts);
      this.#failed("reaction", error);
    }
  }

  async #unreact(ts: string): Promise<void> {
    const entry = this.#reacted.get(ts);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#reacted.delete(ts);
    await this.#options.client.reactions
      .remove({ channel: entry.peer, timestamp: ts, name: this.#options.reaction })
      .catch((error: unknown) => this.#options.logger.debug(`slack: reactions.remove failed: ${slackCode(error)}`));
  }

  #failed(way: "status" | "reaction", error: unknown): void {
    const code = slackCode(error);
    if (code === "missing_scope" || code === "not_allowed_token_type") {
      this.#unavailable.add(way);
      const needed = (error as { data?: { needed?: string } }).data?.needed;
      this.#options.logger.warn(
        `slack: the typing indicator (${way}) needs the scope ${needed ?? (way === "status" ? "assistant:write" : "reactions:write")}: add it under OAuth & Permissions and reinstall the app; until then it is not shown this way`,
      );
      return;
    }
    this.#options.logger.debug(`slack: typing indicator (${way}) failed: ${code}`);
  }
}

/** Slack's error code of a Web API error (`invalid_auth`…), or the error's message. */
function slackCode(error: unknown): string {
  const shape = error as { data?: { error?: string }; message?: string };
  return shape?.data?.error ?? shape?.message ?? String(error);
}
