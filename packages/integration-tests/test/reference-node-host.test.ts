// The reference implementation's own headless node host (`openclaw node run`) against our gateway: it connects with
// its device identity (paired silently on loopback), its command surface waits for an operator, and after
// `node.pair.approve` a `node.invoke` of `system.which` reaches it and answers — as it does against the reference.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkAvailable, eventually } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { referenceEnv, referencePaths } from "../../../tooling/interop/reference.mjs";
import { startGateway, stopAll, TOKEN } from "./harness.js";

const reference = referencePaths() as { dir: string; cli: string };
const haveReference = checkAvailable(
  existsSync(join(reference.dir, ".complete")),
  `the reference implementation (node tooling/interop/reference.mjs installs it into ${reference.dir})`,
);

const children: ChildProcess[] = [];
const homes: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null) continue;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  await stopAll();
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!haveReference)("the reference's node host against our gateway", () => {
  it("pairs, gets its command surface approved, and answers node.invoke system.which", async () => {
    const gateway = await startGateway();
    const operator = await gateway.client();
    const home = mkdtempSync(join(tmpdir(), "reference-node-host-"));
    homes.push(home);
    let output = "";
    const child = spawn(
      process.execPath,
      [
        reference.cli,
        "node",
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        String(gateway.port),
        "--display-name",
        "ref-node",
      ],
      { env: referenceEnv(home, { OPENCLAW_GATEWAY_TOKEN: TOKEN }), stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(child);
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk;
    });

    const pending = await eventually(
      async () => {
        const { pending } = await operator.request("node.pair.list");
        expect(pending, output).toHaveLength(1);
        return pending[0]!;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(pending.commands).toContain("system.which");
    const { paired } = await operator.request("device.pair.list");
    expect(paired).toEqual([expect.objectContaining({ deviceId: pending.nodeId, roles: ["node"] })]);
    await operator.request("node.pair.approve", { requestId: pending.requestId });

    const answer = await operator.request(
      "node.invoke",
      { nodeId: pending.nodeId, command: "system.which", params: { bins: ["sh"] } },
      { timeoutMs: 30_000 },
    );
    expect(answer, output).toMatchObject({ ok: true, nodeId: pending.nodeId, command: "system.which" });
    expect((answer.payload as { bins: Record<string, string> }).bins.sh).toMatch(/\/sh$/);
    const { nodes } = await operator.request("node.list");
    expect(nodes).toEqual([expect.objectContaining({ nodeId: pending.nodeId, connected: true, paired: true })]);
  }, 120_000);
});
