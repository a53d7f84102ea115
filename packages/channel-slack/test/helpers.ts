// Shared by the tests: an account over a test context against the fake Slack, cleaned up after each test.
import { createServer } from "node:http";
import { type FakeSlack, type FakeSlackApp, startFakeSlack } from "@gateway/fakes";
import { createTestContext } from "@gateway/plugin-sdk/testing";
import { SlackAccount, type SlackAccountConfig, type SlackAccountOptions } from "../src/index.js";

/** Socket timings short enough for tests (the library's reconnect step is clientPingTimeoutMs). */
export const FAST_SOCKET = {
  clientPingTimeoutMs: 300,
  serverPingTimeoutMs: 5_000,
  silenceMs: 1_200,
  helloTimeoutMs: 2_000,
};

/** A fake Slack for one test file: `fake`, and `cleanups` to run after each test. */
export function useFakeSlack(options: Parameters<typeof startFakeSlack>[0] = {}) {
  const state = { fake: undefined as unknown as FakeSlack, cleanups: [] as Array<() => Promise<void> | void> };
  return {
    state,
    async start() {
      state.fake = await startFakeSlack({ pingIntervalMs: 200, ackTimeoutMs: 600, ...options });
    },
    async cleanup() {
      for (const cleanup of state.cleanups.splice(0).reverse()) await cleanup();
    },
    async stop() {
      await state.fake?.close();
    },
  };
}

/** Start an account of `app` on the fake (socket mode unless the config says otherwise). */
export function startAccount(
  fake: FakeSlack,
  app: FakeSlackApp,
  cleanups: Array<() => Promise<void> | void>,
  overrides: Partial<SlackAccountConfig> = {},
  options: SlackAccountOptions = {},
) {
  const config: SlackAccountConfig = {
    botToken: app.botToken,
    appToken: app.appToken,
    apiUrl: fake.apiUrl,
    socket: FAST_SOCKET,
    ...overrides,
  };
  const test = createTestContext("slack", "default", config);
  const account = new SlackAccount("default", config, options);
  cleanups.push(async () => {
    await account.stop();
    test.dispose();
  });
  return { test, account, config, started: account.start(test.context) };
}

/** The gateway's side of a webhook, as a plain HTTP server on 127.0.0.1: requests go to the test context's routes. */
export async function serveWebhooks(
  test: () => ReturnType<typeof createTestContext>,
  cleanups: Array<() => Promise<void> | void>,
): Promise<string> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers))
      if (typeof value === "string") headers.set(name, value);
    const web = new Request(`http://127.0.0.1${request.url}`, {
      method: request.method ?? "POST",
      headers,
      body: new Uint8Array(Buffer.concat(chunks)),
    });
    const answer = await test().webhook("POST", request.url ?? "", web);
    response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/plain" });
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
