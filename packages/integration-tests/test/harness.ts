// A gateway in this process (createGateway, port 0, a temp state dir) and clients of it, for tests that cross
// packages. Everything a test starts is stopped and removed by `stopAll()` (call it in afterEach).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGatewayClient, type GatewayClient, GatewayClientError } from "@gateway/client";
import { createGateway, type Gateway } from "@gateway/gateway";

export const TOKEN = "integration-token-0123456789abcdef";

const running: Array<() => Promise<void>> = [];

/** A started gateway: its parts, its URL, and a client factory. */
export interface TestGateway {
  gateway: Gateway;
  url: string;
  port: number;
  stateDir: string;
  /** A connected client (all operator scopes unless `scopes` says otherwise). */
  client(options?: { scopes?: string[] }): Promise<GatewayClient>;
}

/** Start a gateway with `config` laid over a token-auth config on port 0 (`env`: its `GATEWAY_*` variables). */
export async function startGateway(
  config: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<TestGateway> {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-integration-"));
  const gatewayConfig = (config.gateway ?? {}) as Record<string, unknown>;
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({ ...config, gateway: { port: 0, auth: { mode: "token", token: TOKEN }, ...gatewayConfig } }),
  );
  const gateway = createGateway({ stateDir, env, version: "0.0.0-test", logging: { stdout: false } });
  running.push(async () => {
    await gateway.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  const address = await gateway.listen();
  return {
    gateway,
    url: address.url,
    port: address.port,
    stateDir,
    async client(options = {}) {
      const client = createGatewayClient({
        url: address.url,
        token: TOKEN,
        reconnect: false,
        client: { id: "integration-test", mode: "test", version: "1.0.0" },
        ...(options.scopes ? { scopes: options.scopes } : {}),
      });
      running.push(async () => client.close());
      await client.ready();
      return client;
    },
  };
}

/** Stop every gateway and client the test started (in reverse order). */
export async function stopAll(): Promise<void> {
  for (const stop of running.splice(0).reverse()) await stop();
}

/** A client that is not waited for (closed by `stopAll()`): for a connect that may be refused. */
export function openClient(options: Parameters<typeof createGatewayClient>[0]): GatewayClient {
  const client = createGatewayClient({
    reconnect: false,
    client: { id: "integration-test", mode: "test", version: "1.0.0" },
    ...options,
  });
  running.push(async () => client.close());
  return client;
}

/** The error a client's connect was refused with (throws when it connected). */
export async function refusal(client: GatewayClient): Promise<GatewayClientError> {
  const error = await client.ready().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!GatewayClientError.isInstance(error)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}
