/** pino's numeric levels by the names the reference's log readers use. */
const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/**
 * A log record as `logs.tail` sends it: our pino record (every field kept, so our own CLI reads it as before) plus the
 * fields the reference's log readers parse — `message`, and `_meta` with the level name, the ISO time and the
 * subsystem. A line that is not a JSON record goes out as it is.
 */
export function withReferenceLogFields(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (!isRecord(record) || typeof record.level !== "number") return line;
  const { level, time, msg } = record;
  const subsystem = typeof record.component === "string" ? record.component : "gateway";
  return JSON.stringify({
    ...record,
    message: typeof msg === "string" ? msg : "",
    _meta: {
      logLevelName: LEVEL_NAMES[level] ?? String(level),
      ...(typeof time === "number" ? { date: new Date(time).toISOString() } : {}),
      name: JSON.stringify({ subsystem }),
    },
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
