import { join } from "node:path";
import { createNodeClient, type GatewayClientError, loadDeviceIdentity } from "@gateway/client";
import { createFileKeyStore } from "@gateway/client/node";
import { resolveConnection } from "../connection.js";
import { CliError, type Command, ExitCode } from "../context.js";
import { nodeHostCommands } from "../node-host.js";

/** How often a node waiting for approval tries again. */
const PAIRING_RETRY_MS = 5_000;

const USAGE = "gateway node run [--url ws://…] [--token …] [--allow-run git,ls] [--name <display name>]";

export const nodeCommand: Command = {
  name: "node",
  summary: "run this machine as a node: system.which, and system.run for an allowlist (Ctrl-C to stop)",
  usage: USAGE,
  options: {
    "allow-run": { value: true, description: "executables system.run may start (comma-separated; none by default)" },
    name: { value: true, description: "the node's display name (default: this machine's host name)" },
  },
  async run({ args, flags, global, io, paths }) {
    if (args[0] !== "run") throw new CliError(`which action? ${USAGE}`, ExitCode.usage);
    const target = resolveConnection(global, io);
    const allowRun =
      typeof flags["allow-run"] === "string"
        ? flags["allow-run"]
            .split(",")
            .map((entry) => entry.trim())
            .filter(Boolean)
        : [];
    // The node's identity lives in the state dir (0600): it is what the operator approved.
    const device = await loadDeviceIdentity(createFileKeyStore(join(paths.stateDir, "node", "device.json")));
    const commands = nodeHostCommands({ allowRun, env: io.env });
    const hostname = await import("node:os").then((os) => os.hostname());
    let finish: (code: number) => void = () => {};
    const done = new Promise<number>((resolve) => {
      finish = resolve;
    });
    let node: ReturnType<typeof createNodeClient> | undefined;
    let retry: NodeJS.Timeout | undefined;
    let stopped = false;
    // A device the gateway does not know yet (a remote node, or silent pairing off) waits for an operator: the node
    // says what to approve and tries again until it is approved.
    const start = () => {
      if (stopped) return;
      node = createNodeClient({
        ...target,
        device,
        commands,
        client: { displayName: typeof flags.name === "string" ? flags.name : hostname, version: "0.1.0" },
        onStateChange(state) {
          if (state === "open") io.stderr(`node ${device.deviceId.slice(0, 12)}… connected to ${target.url}\n`);
          if (state === "reconnecting") io.stderr("connection lost; reconnecting…\n");
        },
      });
      node.ready().then(
        () =>
          io.stderr(
            `offering ${Object.keys(commands).join(", ")}; an operator approves them with: gateway nodes pending / gateway nodes approve <request>\n`,
          ),
        (error: GatewayClientError) => {
          if (error.detailCode === "PAIRING_REQUIRED" && !stopped) {
            const requestId = (error.details as { requestId?: string } | undefined)?.requestId;
            io.stderr(`waiting for approval of this device: gateway devices approve ${requestId ?? "--latest"}\n`);
            retry = setTimeout(start, PAIRING_RETRY_MS);
            return;
          }
          io.stderr(`✖ ${error.message}\n`);
          finish(ExitCode.failed);
        },
      );
    };
    start();
    const onInterrupt = () => finish(ExitCode.ok);
    process.once("SIGINT", onInterrupt);
    process.once("SIGTERM", onInterrupt);
    io.signal?.addEventListener("abort", onInterrupt, { once: true });
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      return await done;
    } finally {
      clearInterval(keepAlive);
      process.off("SIGINT", onInterrupt);
      process.off("SIGTERM", onInterrupt);
      stopped = true;
      clearTimeout(retry);
      node?.close();
    }
  },
};
