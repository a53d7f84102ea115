// @gateway/plugin-sdk/test-context — a ChannelContext for tests and examples (no test runner needed).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChannelContext, ChannelHttpRoute, ChannelStatus, InboundMessage } from "./types.js";

/** A ChannelContext for tests: what the account received, its status, the errors it reported. */
export function createTestContext<Config>(channel: string, accountId: string, config: Config) {
  const controller = new AbortController();
  const stateDir = mkdtempSync(join(tmpdir(), `channel-${channel}-`));
  const received: InboundMessage[] = [];
  const errors: Error[] = [];
  const history: Array<Partial<ChannelStatus>> = [];
  let status: Partial<ChannelStatus> = {};
  const routes = new Map<string, ChannelHttpRoute>();
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const context: ChannelContext<Config> = {
    channel,
    accountId,
    config,
    logger: silent,
    signal: controller.signal,
    stateDir,
    receive: (message) => {
      received.push({ ...message, channel, accountId });
    },
    setStatus: (patch) => {
      status = { ...status, ...patch };
      history.push(patch);
    },
    reportError: (error) => {
      errors.push(error);
    },
    registerHttpRoute: (route) => {
      const path = `/channels/${channel}/${accountId}/${route.path.replace(/^\/+/, "")}`;
      routes.set(`${route.method} ${path}`, route);
      return path;
    },
  };
  return {
    context: context as unknown as ChannelContext,
    received,
    errors,
    history,
    status: () => status,
    /** Call a webhook the account mounted (as the gateway would); 404 when none is mounted there. */
    async webhook(method: "GET" | "POST", path: string, request: Request): Promise<Response> {
      const route = routes.get(`${method} ${path}`);
      return route ? route.handle(request) : new Response("no route", { status: 404 });
    },
    /** Resolve when `check` holds (polling), or fail after `ms`. */
    async until(check: () => boolean, ms = 5_000) {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    dispose() {
      controller.abort();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
