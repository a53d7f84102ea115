// Transcript messages as the gateway sends them: `{ role, text }` today, or the reference's content blocks
// (`{ role, content: [{ type: "text", text }, { type: "toolCall", name, … }] }`). Read either, trust neither.

/** A message ready to show. */
export interface ShownMessage {
  role: string;
  text: string;
  ts: number | undefined;
  /** Tool calls the message made or answered, by name. */
  tools: { name: string; isError: boolean }[];
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The text of a message (or of a `message` field of an event): text, a content string or text blocks. */
export function messageText(value: unknown): string {
  if (typeof value === "string") return value;
  const message = asRecord(value);
  if (!message) return "";
  if (typeof message.text === "string") return message.text;
  if (typeof message.content === "string") return message.content;
  if (Array.isArray(message.content)) {
    return message.content
      .map((block) => {
        const part = asRecord(block);
        return part && (part.type === "text" || part.type === undefined) && typeof part.text === "string"
          ? part.text
          : "";
      })
      .join("");
  }
  return "";
}

/** A transcript entry as shown; undefined for what has nothing to show. */
export function shownMessage(value: unknown): ShownMessage | undefined {
  const message = asRecord(value);
  if (!message) return undefined;
  const role = typeof message.role === "string" ? message.role : "assistant";
  const tools: ShownMessage["tools"] = [];
  if (Array.isArray(message.content)) {
    for (const block of message.content) {
      const part = asRecord(block);
      if (!part) continue;
      if (part.type === "toolCall" || part.type === "tool_use" || part.type === "toolResult") {
        const name =
          typeof part.name === "string" ? part.name : typeof part.toolName === "string" ? part.toolName : "tool";
        tools.push({ name, isError: part.isError === true });
      }
    }
  }
  if (role === "tool" || role === "toolResult") {
    const name = typeof message.toolName === "string" ? message.toolName : "tool";
    tools.push({ name, isError: message.isError === true });
  }
  const text = messageText(message);
  const ts =
    typeof message.ts === "number" ? message.ts : typeof message.timestamp === "number" ? message.timestamp : undefined;
  if (!text && tools.length === 0) return undefined;
  return { role, text, ts, tools };
}
