// libsignal (under Baileys) reports session changes with console.info/warn/error, passing whole session objects:
// private keys would land in the gateway's stdout, formatted by util.inspect and written synchronously to a pipe
// on every new chat (a stranger's message costs event-loop time). While a WhatsApp account runs, those lines are
// dropped from the console and only their first words reach our logger (at debug); any other console output passes.

const LIBSIGNAL_LINES = [
  "Closing session:",
  "Opening session:",
  "Removing old closed session:",
  "Session already closed",
  "Session already open",
  "Migrating session to:",
  "Closing open session in favor of incoming prekey bundle",
  "Closing stale open session",
  "Decrypted message with closed session.",
  "Failed to decrypt message with any known session",
  "Session error:",
  "V1 session storage migration error",
  "Unhandled bucket type",
  "WARNING: Expected pubkey of length 33",
];

type ConsoleMethod = "log" | "info" | "warn" | "error" | "debug";
const METHODS: ConsoleMethod[] = ["log", "info", "warn", "error", "debug"];

let holders = 0;
let originals: Partial<Record<ConsoleMethod, (...values: unknown[]) => void>> = {};
let report: (line: string) => void = () => {};

/** Whether a console call is one of libsignal's session reports. */
export function isLibsignalLine(first: unknown): boolean {
  return typeof first === "string" && LIBSIGNAL_LINES.some((line) => first.startsWith(line));
}

/**
 * Filter libsignal's lines out of the console until the returned function is called (reference-counted: the
 * console is restored when the last running account releases it).
 */
export function quietLibsignal(debug: (line: string) => void): () => void {
  report = debug;
  if (holders++ === 0) {
    originals = {};
    for (const method of METHODS) {
      const original = console[method];
      originals[method] = original;
      console[method] = (...values: unknown[]) => {
        if (isLibsignalLine(values[0])) report(`libsignal: ${String(values[0]).split(":")[0]}`);
        else original.apply(console, values);
      };
    }
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders > 0) return;
    for (const method of METHODS) if (originals[method]) console[method] = originals[method]!;
    originals = {};
  };
}
