import JSON5 from "json5";
import { CliError, type Command, ExitCode, readInputFile } from "../context.js";
import { printJson, withSpinner } from "../output.js";

export const callCommand: Command = {
  name: "call",
  summary: "call any method and print its result as JSON",
  usage: "gateway call <method> [--params '<json5>' | --params @file.json]",
  options: { params: { value: true, description: "params as JSON5, or @file" } },
  async run({ args, flags, connect, io }) {
    const method = args[0];
    if (!method) throw new CliError("which method? gateway call <method> [--params …]", ExitCode.usage);
    let params: unknown = {};
    const text = flags.params;
    if (typeof text === "string") {
      const source = text.startsWith("@") ? readInputFile(text.slice(1), "the params file") : text;
      try {
        params = JSON5.parse(source);
      } catch (error) {
        throw new CliError(`--params is not valid JSON5: ${(error as Error).message}`, ExitCode.usage);
      }
    }
    const client = await connect();
    try {
      printJson(io, await withSpinner(io, `calling ${method}`, client.call(method, params)));
      return 0;
    } finally {
      client.close();
    }
  },
};
