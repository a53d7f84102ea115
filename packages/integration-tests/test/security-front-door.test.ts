// Security regression suite — the front door (SECURITY.md): who may open a connection at all, from where, with what.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGateway } from "@gateway/gateway";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll, TOKEN } from "./harness.js";
import { attempt, operatorParams } from "./security-helpers.js";

afterEach(stopAll);

const withToken = (token: string) => () => operatorParams({ scopes: ["operator.read"], auth: { token } });

describe("security: the front door", () => {
  it("cross-site WebSocket hijacking: a foreign Origin is refused, with and without the right token", async () => {
    const { url } = await startGateway();
    for (const token of [TOKEN, "not-the-token-0123456789"]) {
      const result = await attempt(url, withToken(token), { origin: "https://evil.example" });
      expect(result.response).toBeUndefined();
      const { code, reason } = await result.close;
      expect(code).toBe(1008);
      expect(reason).toMatch(/ORIGIN_NOT_ALLOWED/);
    }
  });

  it('"ClawJacked": brute force from a browser Origin on loopback is rate limited (the CLI is not)', async () => {
    const { url, port } = await startGateway();
    const origin = `http://127.0.0.1:${port}`;
    const codes: string[] = [];
    for (let index = 0; index < 12; index++) {
      const result = await attempt(url, withToken(`guess-${index}-0123456789abcdef`), { origin });
      codes.push(result.response?.error?.details?.code);
    }
    expect(codes.slice(0, 9).every((code) => code === "AUTH_TOKEN_MISMATCH")).toBe(true);
    expect(codes.at(-1)).toBe("AUTH_RATE_LIMITED");
    // even the right token waits out the lockout from that page
    const right = await attempt(url, withToken(TOKEN), { origin });
    expect(right.response?.error?.details?.code).toBe("AUTH_RATE_LIMITED");
    expect(right.response?.error?.retryAfterMs).toBeGreaterThan(0);
    // a local process without an Origin (the CLI) is not locked out by the page
    const cli = await attempt(url, withToken(TOKEN));
    expect(cli.response?.ok).toBe(true);
    cli.socket?.close();
  });

  it("guessing device tokens from a browser Origin counts toward the same lockout", async () => {
    const { url, port } = await startGateway();
    const { deviceBlock, newDevice } = await import("./security-helpers.js");
    const device = newDevice();
    const origin = `http://127.0.0.1:${port}`;
    const codes: string[] = [];
    for (let index = 0; index < 11; index++) {
      const guess = `guess-${index}`.padEnd(43, "x");
      const result = await attempt(
        url,
        (nonce) =>
          operatorParams({
            scopes: ["operator.read"],
            auth: { deviceToken: guess },
            device: deviceBlock(device, {
              clientId: "security-test",
              clientMode: "test",
              role: "operator",
              scopes: ["operator.read"],
              token: guess,
              nonce,
            }),
          }),
        { origin },
      );
      codes.push(result.response?.error?.details?.code);
    }
    expect(codes[0]).toBe("AUTH_DEVICE_TOKEN_MISMATCH");
    expect(codes.at(-1)).toBe("AUTH_RATE_LIMITED");
  });

  it("reverse proxies: forwarded headers from a peer that is not a trusted proxy are refused (403)", async () => {
    const { url, port } = await startGateway();
    for (const header of ["x-forwarded-for", "x-real-ip", "forwarded"]) {
      const result = await attempt(url, withToken(TOKEN), {
        [header]: header === "forwarded" ? "for=1.2.3.4" : "1.2.3.4",
      });
      expect(result.httpStatus).toBe(403);
    }
    const health = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { "x-forwarded-for": "1.2.3.4" } });
    expect(health.status).toBe(403);
    expect(await health.text()).toMatch(/gateway\.trustedProxies/);
  });

  it("reverse proxies: a trusted proxy's request is never local — a new device is not paired silently", async () => {
    const { url } = await startGateway({ gateway: { trustedProxies: ["127.0.0.1"] } });
    const { deviceBlock, newDevice } = await import("./security-helpers.js");
    const device = newDevice();
    const result = await attempt(
      url,
      (nonce) =>
        operatorParams({
          scopes: ["operator.read"],
          auth: { token: TOKEN },
          device: deviceBlock(device, {
            clientId: "security-test",
            clientMode: "test",
            role: "operator",
            scopes: ["operator.read"],
            token: TOKEN,
            nonce,
          }),
        }),
      { "x-forwarded-for": "203.0.113.9" },
    );
    expect(result.response?.error?.details).toMatchObject({ code: "PAIRING_REQUIRED", reason: "not-paired" });
  });

  it("openclaw#9435: a token in the URL query string is not a credential", async () => {
    const { url } = await startGateway();
    const result = await attempt(`${url}/?token=${TOKEN}`, () => operatorParams({ scopes: ["operator.read"] }));
    expect(result.response?.error?.details?.code).toBe("AUTH_TOKEN_MISSING");
  });

  it("openclaw#139494, #151189: weak, short and placeholder tokens are refused at start, naming the fix", async () => {
    for (const [token, message] of [
      ["undefined", /placeholder|at least 16/],
      ["null", /placeholder|at least 16/],
      ["[redacted]", /placeholder|at least 16/],
      ["short-token", /at least 16/],
    ] as const) {
      const stateDir = mkdtempSync(join(tmpdir(), "gateway-weak-token-"));
      writeFileSync(
        join(stateDir, "gateway.json5"),
        JSON.stringify({ gateway: { port: 0, auth: { mode: "token", token } } }),
      );
      try {
        const start = async () => {
          const gateway = createGateway({ stateDir, logging: { stdout: false } });
          await gateway.close();
        };
        await expect(start()).rejects.toThrow(message);
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
  });

  it("exposure: a non-loopback bind without auth refuses to start, naming the fix", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "gateway-open-bind-"));
    writeFileSync(
      join(stateDir, "gateway.json5"),
      JSON.stringify({ gateway: { port: 0, bind: "lan", auth: { mode: "none" } } }),
    );
    try {
      const start = async () => {
        const gateway = createGateway({ stateDir, logging: { stdout: false } });
        await gateway.close();
      };
      await expect(start()).rejects.toThrow(/only allowed on a loopback bind.*gateway\.auth\.mode/);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("a Control UI in a browser without a device identity is refused (CONTROL_UI_DEVICE_IDENTITY_REQUIRED)", async () => {
    const { url, port } = await startGateway();
    const ui = (id: string) => () =>
      operatorParams({
        client: { id, version: "1.0.0", platform: "web", mode: "webchat" },
        scopes: ["operator.read"],
        auth: { token: TOKEN },
      });
    const result = await attempt(url, ui("openclaw-control-ui"), { origin: `http://127.0.0.1:${port}` });
    expect(result.response?.error?.details?.code).toBe("CONTROL_UI_DEVICE_IDENTITY_REQUIRED");
    expect((await result.close).code).toBe(1008);
  });
});

describe("security: weak secrets given to the server directly", () => {
  it("createGatewayServer refuses placeholders and short tokens even without the config layer", async () => {
    const { createGatewayServer } = await import("@gateway/server");
    for (const token of ["undefined", "null", "[redacted]", "0123456789"])
      expect(() => createGatewayServer({ port: 0, auth: { mode: "token", token } })).toThrow(/placeholder|at least 16/);
    expect(() =>
      createGatewayServer({ port: 0, host: "0.0.0.0", auth: { mode: "password", password: "short" } }),
    ).toThrow(/at least 16/);
  });
});
