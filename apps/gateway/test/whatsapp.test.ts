// WhatsApp end to end: the built gateway runs the real Baileys against crabline's local WhatsApp server, with the
// credentials pre-linked in the gateway's state dir the way the plugin stores them. An unknown sender gets a pairing
// code, the CLI approves it, and the next message is answered by the agent as an accepted encrypted send.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { acceptedSends, injectMessage, seedLinkedCredentials } from "@gateway/channel-whatsapp/testing";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { freePort } from "@gateway/vitest-preset/redis";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { type StartedWhatsAppServer, startWhatsAppServer } from "@openclaw/crabline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(appDir, "dist", "main.js");
let server: StartedWhatsAppServer;
let gateway: ChildProcess;
let stateDir = "";
let logs = "";
const ADA = "15551234567@s.whatsapp.net";

function cli(args: string[]) {
  return runProcess(process.execPath, [main, ...args, "--state-dir", stateDir], {
    env: { GATEWAY_TOKEN: "", GATEWAY_URL: "" },
  }) as Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const accepted = () => acceptedSends(readFileSync(join(stateDir, "crabline.jsonl"), "utf8"));
async function until(check: () => boolean, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the gateway logged:\n${logs}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  if (!existsSync(main))
    spawnSync(process.execPath, [join(appDir, "node_modules", "tsup", "dist", "cli-default.js")], { cwd: appDir });
  stateDir = mkdtempSync(join(tmpdir(), "gateway-whatsapp-"));
  server = await startWhatsAppServer({ recorderPath: join(stateDir, "crabline.jsonl") });
  // Linked credentials where the plugin keeps them: <state>/channels/whatsapp/<account>/credentials.
  await seedLinkedCredentials(
    join(stateDir, "channels", "whatsapp", "default", "credentials"),
    server.manifest.selfJid,
  );
  const port = (await freePort()) as number;
  writeFileSync(
    join(stateDir, "gateway.json5"),
    `{
      gateway: { auth: { mode: "token", token: "whatsapp-e2e-token-0123456789" } },
      channels: { whatsapp: { waWebSocketUrl: "${server.manifest.endpoints.baileysWebSocketUrl}", debounceMs: 0 } },
    }`,
  );
  gateway = spawn(process.execPath, [main, "run", "--port", String(port), "--state-dir", stateDir, "--json-logs"], {
    env: { ...process.env, GATEWAY_TOKEN: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  gateway.stderr!.on("data", (chunk) => {
    logs += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    gateway.stdout!.on("data", (chunk) => {
      logs += chunk;
      if (logs.includes("listening on")) resolve();
    });
    gateway.once("exit", (code) => reject(new Error(`gateway exited ${code}: ${logs}`)));
  });
}, 60_000);

afterAll(async () => {
  gateway?.kill("SIGTERM");
  if (gateway) await new Promise((resolve) => gateway.once("exit", resolve));
  await server?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("WhatsApp through a running gateway", () => {
  it("channels status: the linked account is connected", async () => {
    let status = await cli(["channels", "status"]);
    for (let tries = 0; !/whatsapp:default\s+connected/.test(status.stdout) && tries < 40; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = await cli(["channels", "status"]);
    }
    expect(status.stdout).toMatch(/whatsapp:default\s+connected/);
  }, 20_000);

  it("an unknown sender gets a pairing code; approved with the CLI, their next message is answered by the agent", async () => {
    await injectMessage(server.manifest, { chatJid: ADA, senderJid: ADA, text: "hi, who are you?", pushName: "Ada" });
    await until(
      () => accepted().some((send) => /pairing code: [A-Z2-9]{8}/.test(send.text ?? "")),
      15_000,
      "the pairing code",
    );
    const reply = accepted().find((send) => /pairing code/.test(send.text ?? ""))!;
    // The number was resolved to its LID before sending.
    expect(reply.peer).toBe("15551234567@lid");
    const code = /pairing code: ([A-Z2-9]{8})/.exec(reply.text!)![1]!;
    const list = await cli(["pairing", "list", "whatsapp"]);
    expect(list.stdout).toMatch(new RegExp(`${code}\\s+whatsapp:default\\s+Ada \\(15551234567\\)`));
    const approve = await cli(["pairing", "approve", "whatsapp", code]);
    expect(approve.stderr).toBe("");
    expect(approve.stdout).toMatch(/✔ approved Ada \(15551234567\) on whatsapp:default/);
    const before = accepted().length;
    await injectMessage(server.manifest, { chatJid: ADA, senderJid: ADA, text: "hello gateway", pushName: "Ada" });
    await until(() => accepted().length > before, 15_000, "the agent's reply");
    const answer = accepted().at(-1)!;
    expect(answer.peer).toBe("15551234567@lid");
    expect(answer.text?.endsWith("hello gateway")).toBe(true);
    const sessions = await cli(["sessions", "list"]);
    expect(sessions.stdout).toMatch(/whatsapp:15551234567/);
  }, 40_000);

  it("send delivers to a number through the CLI", async () => {
    const before = accepted().length;
    const sent = await cli(["send", "--channel", "whatsapp", "--to", "+15551234567", "reminder: stand-up at 10"]);
    expect(sent.stderr).toBe("");
    expect(sent.stdout).toMatch(/✔ sent to whatsapp:default \+15551234567 \(1 message\)/);
    await until(() => accepted().length > before, 10_000, "the send");
    expect(accepted().at(-1)).toMatchObject({ peer: "15551234567@lid", text: "reminder: stand-up at 10" });
  }, 20_000);

  it("the credentials in the state dir are private (0600 files, 0700 directories)", () => {
    const root = join(stateDir, "channels", "whatsapp", "default", "credentials");
    for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      expect(statSync(path).mode & 0o777, path).toBe(entry.isDirectory() ? 0o700 : 0o600);
    }
  });
});
