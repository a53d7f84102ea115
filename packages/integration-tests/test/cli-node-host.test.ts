// `gateway node run`, our headless node host (the CLI, in-process) against a listening gateway: it pairs by its
// device identity (kept in the state dir), its commands are approved, and system.which / system.run answer; system.run
// starts only allowlisted executables (argv, no shell) and is bounded in time.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@gateway/cli";
import { eventually } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll, TOKEN } from "./harness.js";

afterEach(stopAll);

describe("gateway node run", () => {
  it("pairs, is approved, and runs system.which and allowlisted system.run", async () => {
    const gateway = await startGateway();
    const operator = await gateway.client();
    const stateDir = mkdtempSync(join(tmpdir(), "gateway-node-host-"));
    const stop = new AbortController();
    let stderr = "";
    const exited = runCli(
      [
        "node",
        "run",
        "--url",
        gateway.url,
        "--token",
        TOKEN,
        "--allow-run",
        "echo,sleep,env",
        "--name",
        "test-host",
        "--state-dir",
        stateDir,
      ],
      {
        stdout: () => {},
        stderr: (text) => {
          stderr += text;
        },
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: stateDir, SECRET_VARIABLE: "do-not-pass" },
        isTty: false,
        signal: stop.signal,
      },
    );
    try {
      const request = await eventually(async () => {
        const { pending } = await operator.request("node.pair.list");
        expect(pending, stderr).toHaveLength(1);
        return pending[0]!;
      });
      expect(request).toMatchObject({ displayName: "test-host", commands: ["system.which", "system.run"] });
      expect(statSync(join(stateDir, "node", "device.json")).mode & 0o777).toBe(0o600);
      await operator.request("node.pair.approve", { requestId: request.requestId });
      const nodeId = request.nodeId;

      const which = await operator.request("node.invoke", {
        nodeId,
        command: "system.which",
        params: { bins: ["sh", "no-such-binary-here"] },
      });
      expect(which.payload).toEqual({ bins: { sh: expect.stringMatching(/\/sh$/) } });

      const echoed = await operator.request("node.invoke", {
        nodeId,
        command: "system.run",
        params: { command: ["echo", "hello; rm -rf /"] },
      });
      expect(echoed.payload).toMatchObject({ exitCode: 0, stdout: "hello; rm -rf /\n", timedOut: false });

      await expect(
        operator.request("node.invoke", { nodeId, command: "system.run", params: { command: ["sh", "-c", "env"] } }),
      ).rejects.toMatchObject({ code: "UNAVAILABLE", message: expect.stringMatching(/not in this node's allowlist/) });

      // the child gets an allowlisted environment, not the host's secrets
      const environment = await operator.request("node.invoke", {
        nodeId,
        command: "system.run",
        params: { command: ["env"] },
      });
      expect((environment.payload as { stdout: string }).stdout).toMatch(/^PATH=/m);
      expect((environment.payload as { stdout: string }).stdout).not.toContain("SECRET_VARIABLE");

      const slow = await operator.request("node.invoke", {
        nodeId,
        command: "system.run",
        params: { command: ["sleep", "10"], timeoutMs: 200 },
      });
      expect(slow.payload).toMatchObject({ timedOut: true, signal: "SIGKILL" });
    } finally {
      stop.abort();
      expect(await exited).toBe(0);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("a node the gateway does not know yet waits for the device approval, then connects by itself", async () => {
    const gateway = await startGateway({ gateway: { pairing: { autoApproveLoopback: false } } });
    const operator = await gateway.client();
    const stateDir = mkdtempSync(join(tmpdir(), "gateway-node-wait-"));
    const stop = new AbortController();
    let stderr = "";
    const exited = runCli(["node", "run", "--url", gateway.url, "--token", TOKEN, "--state-dir", stateDir], {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      isTty: false,
      signal: stop.signal,
    });
    try {
      const request = await eventually(async () => {
        const { pending } = await operator.request("device.pair.list");
        expect(pending).toHaveLength(1);
        return pending[0]!;
      });
      await eventually(() => expect(stderr).toContain(`gateway devices approve ${request.requestId}`));
      await operator.request("device.pair.approve", { requestId: request.requestId });
      await eventually(
        async () =>
          expect((await operator.request("node.list")).nodes).toEqual([expect.objectContaining({ connected: true })]),
        { timeoutMs: 15_000, intervalMs: 200 },
      );
    } finally {
      stop.abort();
      expect(await exited).toBe(0);
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 30_000);
});
