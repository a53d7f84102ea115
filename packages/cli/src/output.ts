import type { CliIo } from "./context.js";

/** Aligned columns for humans. */
export function table(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [index, cell] of row.entries()) widths[index] = Math.max(widths[index] ?? 0, cell.length);
  }
  return rows
    .map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!))).join("  "))
    .join("\n");
}

/** Print a value as JSON (for `--json`). */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** `3d 4h`, `12m 3s`, `850 ms`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.floor(ms / 1000);
  const units: Array<[string, number]> = [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(" ");
}

export const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** A spinner on stderr while `work` runs longer than a moment; nothing when not a terminal. */
export async function withSpinner<T>(io: CliIo, label: string, work: Promise<T>): Promise<T> {
  if (!io.isTty) return work;
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let frame = 0;
  let shown = false;
  const timer = setInterval(() => {
    shown = true;
    io.stderr(`\r${frames[frame++ % frames.length]} ${label}`);
  }, 120);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    if (shown) io.stderr("\r\x1b[2K");
  }
}
