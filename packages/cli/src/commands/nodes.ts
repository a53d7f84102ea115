import JSON5 from "json5";
import { CliError, type Command, ExitCode, readInputFile } from "../context.js";
import { printJson, table, withSpinner } from "../output.js";

const USAGE =
  "gateway nodes list | pending | approve <requestId> | reject <requestId> | describe <node> | invoke <node> <command> [--params '<json5>'] [--invoke-timeout <ms>]  [--json]";

export const nodesCommand: Command = {
  name: "nodes",
  scopes: ["operator.read", "operator.write", "operator.pairing"],
  summary: "machines that run commands for the agent (nodes): list, approve their commands, invoke one",
  usage: USAGE,
  options: {
    params: { value: true, description: "invoke: the command's params as JSON5, or @file" },
    "invoke-timeout": { value: true, description: "invoke: how long the node may take, in ms (default 30000)" },
  },
  async run({ args, flags, connect, global, io }) {
    const [action = "list", target, command] = args;
    if (!["list", "pending", "approve", "reject", "describe", "invoke"].includes(action))
      throw new CliError(`unknown action "${action}": ${USAGE}`, ExitCode.usage);
    if (action !== "list" && action !== "pending" && !target)
      throw new CliError(`nodes ${action} needs an id: ${USAGE}`, ExitCode.usage);
    if (action === "invoke" && !command) throw new CliError(`which command? ${USAGE}`, ExitCode.usage);
    let params: unknown;
    if (typeof flags.params === "string") {
      const source = flags.params.startsWith("@")
        ? readInputFile(flags.params.slice(1), "the params file")
        : flags.params;
      try {
        params = JSON5.parse(source);
      } catch (error) {
        throw new CliError(`--params is not valid JSON5: ${(error as Error).message}`, ExitCode.usage);
      }
    }
    const timeoutMs = typeof flags["invoke-timeout"] === "string" ? Number(flags["invoke-timeout"]) : undefined;
    if (timeoutMs !== undefined && !(timeoutMs > 0))
      throw new CliError("--invoke-timeout must be a positive number of ms", ExitCode.usage);
    const client = await connect();
    try {
      const nodeId = async () => {
        const { nodes } = await client.request("node.list");
        const matches = nodes.filter(
          (node) => node.nodeId.startsWith(target!.replace(/…$/, "")) || node.displayName === target,
        );
        if (matches.length === 1) return matches[0]!.nodeId;
        throw new CliError(
          matches.length === 0
            ? `no node ${target}: see gateway nodes list`
            : `${target} matches ${matches.length} nodes`,
          matches.length === 0 ? ExitCode.failed : ExitCode.usage,
        );
      };
      if (action === "list") {
        const { nodes } = await client.request("node.list");
        if (global.json) printJson(io, nodes);
        else if (nodes.length === 0)
          io.stdout("no nodes (run one with `gateway node run`, or the reference's `openclaw node run`)\n");
        else
          io.stdout(
            `${table([
              ["NODE", "NAME", "PLATFORM", "STATE", "COMMANDS"],
              ...nodes.map((node) => [
                `${node.nodeId.slice(0, 12)}…`,
                node.displayName ?? "-",
                node.platform ?? "-",
                `${node.connected ? "connected" : "offline"}${node.paired ? "" : ", not approved"}`,
                node.commands.join(",") || "-",
              ]),
            ])}\n`,
          );
        return ExitCode.ok;
      }
      if (action === "pending") {
        const { pending } = await client.request("node.pair.list");
        if (global.json) printJson(io, pending);
        else if (pending.length === 0) io.stdout("no nodes waiting for approval\n");
        else
          io.stdout(
            `${table([
              ["REQUEST", "NODE", "NAME", "COMMANDS"],
              ...pending.map((request) => [
                request.requestId,
                `${request.nodeId.slice(0, 12)}…`,
                request.displayName ?? "-",
                (request.commands ?? []).join(","),
              ]),
            ])}\napprove one with: gateway nodes approve <request>\n`,
          );
        return ExitCode.ok;
      }
      if (action === "approve" || action === "reject") {
        const result = await client.request(action === "approve" ? "node.pair.approve" : "node.pair.reject", {
          requestId: target!,
        });
        if (global.json) printJson(io, result);
        else io.stdout(`✔ ${result.decision} node ${result.nodeId.slice(0, 12)}…\n`);
        return ExitCode.ok;
      }
      if (action === "describe") {
        printJson(io, await client.request("node.describe", { nodeId: await nodeId() }));
        return ExitCode.ok;
      }
      const id = await nodeId();
      const result = await withSpinner(
        io,
        `running ${command} on the node`,
        client.request(
          "node.invoke",
          {
            nodeId: id,
            command: command!,
            ...(params !== undefined ? { params } : {}),
            ...(timeoutMs ? { timeoutMs } : {}),
          },
          { timeoutMs: (timeoutMs ?? 30_000) + 5_000 },
        ),
      );
      printJson(io, global.json ? result : result.payload);
      return ExitCode.ok;
    } finally {
      client.close();
    }
  },
};
