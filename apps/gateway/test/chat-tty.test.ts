// Interactive `gateway chat` in a real pseudo-terminal (tmux): line editing, history kept in the state dir, Ctrl-R,
// a pasted block as one message, and local commands that never reach the agent.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ChatMessage, chatMessageText } from "@gateway/protocol";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { checkAvailable, until as waitUntil } from "@gateway/vitest-preset/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");
// Loud when skipped here; under CI=true a missing tmux fails the run.
const hasTmux = checkAvailable(spawnSync("tmux", ["-V"]).status === 0, "tmux (apt-get install tmux)");
const socket = `gateway-chat-test-${process.pid}`;
let stateDir = "";
let gateway: ChildProcess;

const tmux = (...args: string[]) => spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
let pane = "chat-0";
const screen = () => tmux("capture-pane", "-p", "-J", "-t", pane).stdout;
const keys = (...names: string[]) => tmux("send-keys", "-t", pane, ...names);

/** Resolve once `check` holds; on a timeout, say what did not happen and show the screen. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  await waitUntil(check, { timeoutMs, intervalMs: 50, message: what }).catch((error: Error) => {
    throw new Error(`${error.message}; the screen:\n${screen()}`);
  });
}

function cli(args: string[]) {
  return runProcess(process.execPath, [main, ...args, "--state-dir", stateDir], {
    env: { GATEWAY_TOKEN: "", GATEWAY_URL: "" },
  }) as Promise<{ code: number; stdout: string; stderr: string }>;
}

/** The session's messages as `sessions show --json` has them, each as its role and its text. */
async function transcript(key: string): Promise<Array<{ role: string; text: string }>> {
  const { messages } = JSON.parse((await cli(["sessions", "show", key, "--json"])).stdout) as {
    messages: ChatMessage[];
  };
  return messages.map((message) => ({ role: message.role, text: chatMessageText(message) }));
}

function startChat(session: string): void {
  const command = [process.execPath, main, "chat", "--state-dir", stateDir, "--session", session]
    .map((part) => `'${part}'`)
    .join(" ");
  // The pane stays after the chat exits, so the test can read the last screen; each chat gets its own session.
  pane = `chat-${Number(pane.split("-")[1]) + 1}`;
  const started = tmux(
    "new-session",
    "-d",
    "-s",
    pane,
    "-x",
    "150",
    "-y",
    "40",
    `env GATEWAY_TOKEN= GATEWAY_URL= ${command}; echo "[chat exited $?]"; sleep 60`,
  );
  if (started.status !== 0) throw new Error(started.stderr);
}

describe.skipIf(!hasTmux)("interactive chat in a terminal", () => {
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "gateway-chat-tty-"));
    gateway = spawn(process.execPath, [main, "run", "--port", "0", "--state-dir", stateDir, "--json-logs"], {
      env: { ...process.env, GATEWAY_TOKEN: "" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    gateway.stdout!.on("data", (chunk) => {
      output += chunk;
    });
    await until(() => output.includes("listening on"), "the gateway start", 30_000);
  }, 40_000);

  afterAll(async () => {
    tmux("kill-server");
    gateway.kill("SIGTERM");
    await new Promise((resolve) => gateway.once("exit", resolve));
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("arrow keys edit the line instead of landing in the message", async () => {
    startChat("agent:main:tty");
    await until(() => screen().includes("/help lists the commands"), "the chat banner");
    keys("hello worlx", "Left", "Left", "BSpace", "l", "End", "Enter");
    await until(async () => (await transcript("agent:main:tty")).some((m) => m.role === "assistant"), "the reply");
    const messages = await transcript("agent:main:tty");
    expect(messages[0]).toMatchObject({ role: "user", text: "hello wollx" });
    expect(JSON.stringify(messages)).not.toMatch(/\\u001b|\[D/);
  });

  it("local commands never go to the agent", async () => {
    keys("/help", "Enter");
    await until(() => screen().includes("local commands (never sent to the agent)"), "the help");
    keys("/frob", "Enter");
    await until(() => screen().includes("unknown command /frob"), "the unknown-command note");
    keys("/session agent:main:other", "Enter");
    await until(() => screen().includes("now in agent:main:other"), "the session switch");
    keys("in the other one", "Enter");
    await until(async () => (await transcript("agent:main:other")).length === 2, "the other session's reply");
    const first = await transcript("agent:main:tty");
    expect(first.map((message) => message.text).join("\n")).not.toMatch(/\/help|\/frob|\/session/);
  });

  it("Ctrl-R finds an earlier message, and a pasted block of lines is one message", async () => {
    keys("C-r", "wol");
    await until(() => screen().includes("(reverse-i-search)`wol': hello wollx"), "the search");
    keys("Enter");
    await until(
      async () => (await transcript("agent:main:other")).some((m) => m.role === "user" && m.text === "hello wollx"),
      "the found message sent",
    );
    tmux("set-buffer", "first pasted line\nsecond pasted line");
    tmux("paste-buffer", "-p", "-t", pane);
    await until(() => screen().includes("2 lines pasted"), "the paste note");
    keys("Enter");
    await until(
      async () =>
        (await transcript("agent:main:other")).some(
          (m) => m.role === "user" && m.text === "first pasted line\nsecond pasted line",
        ),
      "the pasted message as one",
    );
  });

  it("/quit leaves; the history is kept in the state dir for the next chat", async () => {
    keys("/quit", "Enter");
    await until(() => screen().includes("[chat exited 0]"), "the exit");
    const history = join(stateDir, "chat-history");
    expect(existsSync(history)).toBe(true);
    expect(readFileSync(history, "utf8")).toMatch(/hello wollx\n[\s\S]*first pasted line\\nsecond pasted line\n/);
    startChat("agent:main:tty");
    await until(() => screen().includes("/help lists the commands"), "the second chat");
    keys("Up", "Up");
    // Newest first: /quit, then the pasted message (shown on one line).
    await until(() => /› first pasted line/.test(screen()), "history from the last chat");
    // Ctrl-D on an empty line leaves (on a non-empty one it deletes, as in a shell).
    keys("C-e", "C-u", "C-d");
    await until(() => screen().includes("[chat exited 0]"), "Ctrl-D leaves");
  });
});
