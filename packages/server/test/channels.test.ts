// The channel manager with an in-memory plugin: lifecycle and isolation, config changes, the inbound pipeline
// (pairing, allowlists, groups and mentions, dedupe, debounce), replies and delivery.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DmPairingStore, PAIRING_ALPHABET } from "@gateway/pairing";
import {
  type ChannelAccount,
  type ChannelContext,
  ChannelPlatformError,
  type ChannelPlugin,
  defineChannelPlugin,
  type InboundMessage,
  type OutboundMessage,
} from "@gateway/plugin-sdk";
import { settle, until } from "@gateway/vitest-preset/wait";
import { Type } from "@sinclair/typebox";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type AcceptedMessage, ChannelManager } from "../src/index.js";

/** A platform in memory: accounts, what they sent, and knobs to make them fail. */
function memoryPlatform(id = "memory") {
  const sent: Array<OutboundMessage & { account: string }> = [];
  const typing: string[] = [];
  const contexts = new Map<string, ChannelContext>();
  const starts: Record<string, number> = {};
  const behaviour: { failStart?: (account: string) => Error | undefined; failSend?: boolean } = {};
  let nextId = 1;
  const plugin: ChannelPlugin = defineChannelPlugin({
    specificationVersion: "v1",
    id,
    meta: { label: `Memory ${id}` },
    capabilities: {
      chatTypes: ["direct", "group"],
      media: false,
      threads: true,
      typing: true,
      maxTextLength: 100,
    },
    configSchema: Type.Object({ token: Type.Optional(Type.String()) }),
    createAccount(accountId): ChannelAccount {
      return {
        async start(context) {
          starts[accountId] = (starts[accountId] ?? 0) + 1;
          const failure = behaviour.failStart?.(accountId);
          if (failure) throw failure;
          contexts.set(accountId, context);
          context.setStatus({ running: true, connected: true });
        },
        async stop() {
          contexts.delete(accountId);
        },
        async sendText(message) {
          if (behaviour.failSend) throw new Error("the platform refused the message");
          sent.push({ ...message, account: accountId });
          const messageId = String(nextId++);
          return { messageId, messageIds: [messageId] };
        },
        async sendTyping(peer) {
          typing.push(peer);
        },
      };
    },
  });
  let messageId = 1000;
  return {
    plugin,
    sent,
    typing,
    starts,
    behaviour,
    context: (account = "default") => contexts.get(account),
    /** Deliver a message as the platform would. */
    inject(message: Partial<InboundMessage> & { text: string }, account = "default") {
      const context = contexts.get(account);
      if (!context) throw new Error(`account ${account} is not running`);
      context.receive({
        chatType: "direct",
        peer: message.sender?.id ?? "501",
        sender: { id: "501", name: "Grace" },
        wasMentioned: false,
        messageId: String(messageId++),
        timestamp: Date.now(),
        ...message,
      });
    },
  };
}

const dirs: string[] = [];
const managers: ChannelManager[] = [];
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setUp(
  options: {
    plugins?: ChannelPlugin[];
    reply?: (message: AcceptedMessage) => string;
    onMessage?: ConstructorParameters<typeof ChannelManager>[0]["onMessage"];
  } = {},
) {
  const stateDir = mkdtempSync(join(tmpdir(), "gw-channels-"));
  dirs.push(stateDir);
  const platform = memoryPlatform();
  const runs: AcceptedMessage[] = [];
  const manager = new ChannelManager({
    stateDir,
    logger: pino({ level: "silent" }),
    builtins: [platform.plugin, ...(options.plugins ?? [])],
    restartBackoff: { baseMs: 20, maxMs: 100 },
    ...(options.onMessage ? { onMessage: options.onMessage } : {}),
    host: {
      async run(message) {
        runs.push(message);
        return options.reply ? options.reply(message) : `echo: ${message.text}`;
      },
    },
  });
  managers.push(manager);
  return { manager, platform, runs, stateDir };
}

describe("pairing (dmPolicy pairing, the default)", () => {
  it("an unknown sender gets a code and is not processed; once approved, the next message runs and is answered", async () => {
    const { manager, platform, runs, stateDir } = setUp();
    await manager.apply({ memory: { debounceMs: 0 } });
    await until(() => platform.context() !== undefined);
    platform.inject({ text: "hello?" });
    await until(() => platform.sent.length === 1);
    expect(runs).toHaveLength(0);
    const code = /pairing code: ([A-Z0-9]{8})/.exec(platform.sent[0]!.text)?.[1];
    expect(code).toBeDefined();
    for (const char of code!) expect(PAIRING_ALPHABET).toContain(char);
    expect(platform.sent[0]!.text).toContain(`gateway pairing approve memory ${code}`);
    // more messages while pending: no new code, nothing processed
    platform.inject({ text: "still there?" });
    // Negative window: a second code would be sent once the pairing store answered (a file write, a few ms).
    await settle(50);
    expect(platform.sent).toHaveLength(1);
    const listed = manager.pairingList({ channel: "memory" });
    expect(listed.requests).toEqual([
      expect.objectContaining({ requestId: code, accountId: "default", senderId: "501", senderLabel: "Grace" }),
    ]);
    await expect(
      manager.pairingApprove({ channel: "memory", accountId: "default", requestId: "ZZZZZZZZ" }),
    ).rejects.toThrow(/no pending pairing code "ZZZZZZZZ"/);
    const approved = await manager.pairingApprove({
      channel: "memory",
      accountId: "default",
      requestId: code!.toLowerCase(),
      notify: true,
    });
    expect(approved).toMatchObject({ senderId: "501", notification: "sent" });
    expect(platform.sent.at(-1)?.text).toMatch(/approved/);
    platform.inject({ text: "now?" });
    await until(() => runs.length === 1 && platform.sent.length === 3);
    expect(runs[0]!.text).toBe("now?");
    expect(platform.sent.at(-1)).toMatchObject({ peer: "501", text: "echo: now?" });
    expect(platform.sent.at(-1)?.replyToMessageId).toBe(runs[0]!.inbound.messageId);
    expect(manager.pairingList().requests).toHaveLength(0);
    // stored atomically, private, and read back by a new store
    const file = join(stateDir, "credentials", "dm-pairing.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).approved).toEqual({ "memory:default": ["501"] });
    expect(new DmPairingStore(stateDir).isApproved("memory", "default", "501")).toBe(true);
  });
});

describe("messages for /metrics", () => {
  it("reports each message in and out, and a failed send, with channel and account", async () => {
    const seen: string[] = [];
    const { manager, platform } = setUp({
      onMessage: (message) => seen.push(`${message.direction}:${message.channel}:${message.accountId}:${message.ok}`),
    });
    await manager.apply({ memory: { debounceMs: 0, dmPolicy: "open", allowFrom: ["*"] } });
    await until(() => platform.context() !== undefined);
    platform.inject({ text: "hi" });
    await until(() => platform.sent.length === 1);
    expect(seen).toEqual(["in:memory:default:true", "out:memory:default:true"]);
    platform.behaviour.failSend = true;
    await expect(manager.deliver({ channel: "memory", peer: "501" }, "are you there?")).rejects.toThrow(/refused/);
    expect(seen.at(-1)).toBe("out:memory:default:false");
  });
});

describe("access policies", () => {
  it("allowlist (ids and @usernames), open with *, disabled", async () => {
    const { manager, platform, runs } = setUp();
    await manager.apply({
      memory: {
        debounceMs: 0,
        dmPolicy: "allowlist",
        allowFrom: ["777", "@Ada"],
        accounts: { a: {}, open: { dmPolicy: "open", allowFrom: ["*"] }, off: { dmPolicy: "disabled" } },
      },
    });
    await until(() => ["a", "open", "off"].every((account) => platform.context(account)));
    platform.inject({ text: "stranger", sender: { id: "1" } }, "a");
    platform.inject({ text: "by id", sender: { id: "777" } }, "a");
    platform.inject({ text: "by name", sender: { id: "2", username: "ada" } }, "a");
    platform.inject({ text: "anyone", sender: { id: "3" } }, "open");
    platform.inject({ text: "nobody", sender: { id: "777" } }, "off");
    await until(() => runs.length === 3);
    // Runs start synchronously (debounceMs 0), so "stranger" and "nobody" would be in `runs` already; only a
    // wrongly sent pairing code is asynchronous (the store writes its file first): a short negative window for it.
    await settle(30);
    expect(runs.map((run) => run.text).sort()).toEqual(["anyone", "by id", "by name"]);
    expect(platform.sent.filter((message) => message.text.includes("pairing code"))).toHaveLength(0);
  });

  it("groups: allowlisted groups only, mention gating, unaddressed messages kept as context, patterns", async () => {
    const { manager, platform, runs } = setUp();
    await manager.apply({
      memory: {
        debounceMs: 0,
        groups: { "-100": {}, "-200": { requireMention: false } },
        mentionPatterns: ["\\bjarvis\\b"],
      },
    });
    await until(() => platform.context() !== undefined);
    const inGroup = (peer: string, text: string, extra: Partial<InboundMessage> = {}) =>
      platform.inject({ chatType: "group", peer, text, sender: { id: "9", name: "Linus" }, ...extra });
    inGroup("-999", "not an allowed group", { wasMentioned: true });
    inGroup("-100", "lunch at noon?");
    inGroup("-100", "sure");
    // Access is decided and a run started synchronously (debounceMs 0): nothing to wait for.
    expect(runs).toHaveLength(0);
    inGroup("-100", "@bot what did we decide?", { wasMentioned: true });
    await until(() => runs.length === 1);
    expect(runs[0]!.text).toBe(
      [
        "[Earlier messages in this chat, not addressed to you]",
        "Linus: lunch at noon?",
        "Linus: sure",
        "[Now]",
        "Linus: @bot what did we decide?",
      ].join("\n"),
    );
    inGroup("-100", "hey Jarvis, status?");
    inGroup("-200", "no mention needed here");
    await until(() => runs.length === 3);
    expect(runs.map((run) => run.text)).toContain("Linus: hey Jarvis, status?");
    await until(() => platform.sent.length === 3);
    expect(platform.sent.every((message) => message.replyToMessageId)).toBe(true);
  });
});

describe("the inbound pipeline", () => {
  it("drops a redelivered message, answers a burst once, shows typing, keeps the thread", async () => {
    const { manager, platform, runs } = setUp();
    await manager.apply({ memory: { allowFrom: ["501"], debounceMs: 80 } });
    await until(() => platform.context() !== undefined);
    platform.inject({ text: "first", messageId: "m1" });
    platform.inject({ text: "first", messageId: "m1" });
    platform.inject({ text: "second", messageId: "m2" });
    await until(() => runs.length === 1);
    await settle(100); // negative window: longer than the 80 ms debounce, after which a second run would start
    expect(runs).toHaveLength(1);
    expect(runs[0]!.text).toBe("first\nsecond");
    expect(runs[0]!.inbound.messageId).toBe("m2");
    await until(() => platform.sent.length === 1);
    expect(platform.typing).toContain("501");
    platform.inject({ text: "in a thread", messageId: "m3", threadId: "77" });
    await until(() => platform.sent.length === 2);
    expect(platform.sent[1]).toMatchObject({ peer: "501", threadId: "77", replyToMessageId: "m3" });
  });

  it("a failing agent gets an apology in the chat, not silence", async () => {
    const { manager, platform } = setUp({
      reply: () => {
        throw new Error("model unreachable");
      },
    });
    await manager.apply({ memory: { allowFrom: ["*"], dmPolicy: "open", debounceMs: 0 } });
    await until(() => platform.context() !== undefined);
    platform.inject({ text: "hi" });
    await until(() => platform.sent.length === 1);
    expect(platform.sent[0]!.text).toMatch(/something went wrong.*model unreachable/);
  });
});

describe("lifecycle and isolation", () => {
  it("a plugin failing at start is retried with backoff while the others run; a fatal one is not retried", async () => {
    const flaky = memoryPlatform("flaky");
    const broken = memoryPlatform("broken");
    let failures = 3;
    flaky.behaviour.failStart = () => (failures-- > 0 ? new Error("platform down") : undefined);
    broken.behaviour.failStart = () => new ChannelPlatformError("start", "token revoked", { status: 401, fatal: true });
    const { manager, platform } = setUp({ plugins: [flaky.plugin, broken.plugin] });
    await manager.apply({ memory: {}, flaky: {}, broken: {} });
    await until(() => platform.context() !== undefined);
    await until(() => flaky.context() !== undefined);
    expect(flaky.starts.default).toBe(4);
    // No wait needed for "not retried": flaky's fourth start came after three backoffs (20 + 40 + 80 ms, ±20 %),
    // longer than the first backoff (≤ 24 ms) after which a wrongly retried broken account would have started again.
    expect(broken.starts.default).toBe(1);
    const status = await manager.status();
    expect(status.channelAccounts.broken?.[0]).toMatchObject({
      healthState: "fatal",
      running: false,
      lastError: "start: token revoked",
    });
    expect(status.channelAccounts.flaky?.[0]).toMatchObject({ healthState: "connected", running: true });
    expect(manager.warnings()).toEqual(["broken:default stopped: start: token revoked"]);
    // a fixed config brings the fatal account back
    broken.behaviour.failStart = undefined;
    await manager.apply({ memory: {}, flaky: {}, broken: { token: "new" } });
    await until(() => broken.context() !== undefined);
  });

  it("an error reported at runtime restarts the account; a config change restarts only the accounts it touches", async () => {
    const { manager, platform } = setUp();
    await manager.apply({ memory: { accounts: { a: { token: "1" }, b: { token: "2" } } } });
    await until(() => platform.context("a") !== undefined && platform.context("b") !== undefined);
    platform.context("a")!.reportError(new Error("socket closed"));
    await until(() => platform.starts.a === 2);
    await until(() => platform.context("a") !== undefined);
    await manager.apply({ memory: { accounts: { a: { token: "1" }, b: { token: "3" } } } });
    await until(() => platform.starts.b === 2);
    expect(platform.starts.a).toBe(2);
    await manager.apply({ memory: { accounts: { a: { token: "1" } } } });
    await until(() => platform.context("b") === undefined);
    expect((await manager.status()).channelAccounts.memory?.map((account) => account.accountId)).toEqual(["a"]);
  });

  it("an invalid config is refused with the path and changes nothing", async () => {
    const { manager, platform } = setUp();
    await manager.apply({ memory: {} });
    await until(() => platform.context() !== undefined);
    await expect(manager.apply({ memory: { tokn: "x" } })).rejects.toThrow(/channels\.memory\.tokn: unknown setting/);
    await expect(manager.apply({ memory: { dmPolicy: "open" } })).rejects.toThrow(
      /channels\.memory\.allowFrom: dmPolicy "open" needs "\*"/,
    );
    await expect(manager.apply({ memory: { accounts: { w: { token: 5 } } } })).rejects.toThrow(
      /channels\.memory\.accounts\.w\.token: Expected string/,
    );
    await expect(manager.apply({ nope: {} })).rejects.toThrow(/no channel plugin "nope" \(available: memory/);
    expect(platform.starts.default).toBe(1);
  });

  it("delivery: to a running account, clear errors otherwise; webhooks are served under /channels", async () => {
    const { manager, platform } = setUp();
    expect(() => manager.checkTarget({ channel: "memory", peer: "1" })).toThrow(/channel "memory" is not configured/);
    await manager.apply({ memory: {} });
    await until(() => platform.context() !== undefined);
    const result = await manager.deliver({ channel: "memory", peer: "42", threadId: "7" }, "scheduled hello");
    expect(result).toMatchObject({ channel: "memory", accountId: "default", messageIds: [result.messageId] });
    expect(platform.sent.at(-1)).toMatchObject({ peer: "42", threadId: "7", text: "scheduled hello" });
    await expect(manager.deliver({ channel: "memory", accountId: "x", peer: "1" }, "hi")).rejects.toThrow(
      /memory has no account "x"/,
    );
    const seen: string[] = [];
    const path = platform.context()!.registerHttpRoute({
      method: "POST",
      path: "hook",
      handle: async (request) => {
        seen.push(`${request.headers.get("x-signature")} ${await request.text()}`);
        return new Response(null, { status: 204 });
      },
    });
    expect(path).toBe("/channels/memory/default/hook");
    let status = 0;
    const response = { writeHead: (code: number) => ({ end: () => (status = code) }) } as never;
    const body = Buffer.from('{"raw":  "bytes as sent"}');
    expect(await manager.handleHttp("POST", path, { headers: { "x-signature": "v0=1" }, body }, response)).toBe(true);
    expect(status).toBe(204);
    expect(seen).toEqual(['v0=1 {"raw":  "bytes as sent"}']);
    expect(
      await manager.handleHttp("POST", "/channels/memory/default/other", { headers: {}, body: undefined }, response),
    ).toBe(false);
  });
});
