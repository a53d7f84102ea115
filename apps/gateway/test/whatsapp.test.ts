import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acceptedSends, injectMessage, seedLinkedCredentials } from "@gateway/channel-whatsapp/testing";
import { type StartedWhatsAppServer, startWhatsAppServer } from "@openclaw/crabline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureBuilt,
  freePort,
  type GatewayProcess,
  cli as gatewayCli,
  startGateway,
} from "./support/gateway-process.js";

let server: StartedWhatsAppServer;
let gateway: GatewayProcess;
let stateDir = "";
const ADA = "15551234567@s.whatsapp.net";

const cli = (args: string[]) => gatewayCli(stateDir, args);

const accepted = () => acceptedSends(readFileSync(join(stateDir, "crabline.jsonl"), "utf8"));
async function until(check: () => boolean, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; the gateway logged:\n${gateway?.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  ensureBuilt();
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
  gateway = await startGateway(stateDir, {}, [], port);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
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
