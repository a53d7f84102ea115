// @gateway/plugin-sdk/test-context — a ChannelContext for tests and examples (no test runner needed).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChannelContext, ChannelStatus, InboundMessage } from "./types.js";

/** A ChannelContext for tests: what the account received, its status, the errors it reported. */
export function createTestContext<Config>(channel: string, accountId: string, config: Config) {
  const controller = new AbortController();
  const stateDir = mkdtempSync(join(tmpdir(), `channel-${channel}-`));
  const received: InboundMessage[] = [];
  const errors: Error[] = [];
  const history: Array<Partial<ChannelStatus>> = [];
  let status: Partial<ChannelStatus> = {};
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
  };
  return {
    context: context as unknown as ChannelContext,
    received,
    errors,
    history,
    status: () => status,
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
