/**
 * The records of a JSONL file (one JSON value per line, appended one line at a time). A line that does not parse —
 * the torn last line of a crash mid-append — is skipped; every earlier line is intact by construction.
 */
export function parseJsonLines<T>(text: string): T[] {
  const records: T[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      // a torn line
    }
  }
  return records;
}
