// A session's earlier messages as the model sees them: the conversation handed to backends that keep none, and the
// agent's own tool for reading further back.
import { chatMessageText } from "@gateway/protocol";
import type { AgentTool, ConversationMessage } from "./runtime.js";
import type { SessionStorage } from "./session-storage.js";

/** The session's answered messages, for backends that keep no conversation across restarts. */
export async function conversationOf(store: SessionStorage, key: string): Promise<ConversationMessage[]> {
  const messages = (await store.history(key, 200)).filter(
    (message): message is typeof message & { role: "user" | "assistant" } =>
      message.role === "user" || message.role === "assistant",
  );
  // Trailing user messages are this run's input and queued ones: not history yet.
  while (messages.at(-1)?.role === "user") messages.pop();
  return messages
    .map((message) => ({ role: message.role, text: chatMessageText(message) }))
    .filter((message) => message.role === "user" || message.text !== "");
}

/** The agent's own tool: read earlier messages of the session it runs in. */
export function sessionHistoryTool(store: SessionStorage): AgentTool {
  return {
    name: "session_history",
    description: "Read the most recent messages of this conversation (oldest first), with their times.",
    parameters: {
      type: "object",
      properties: { limit: { type: "integer", minimum: 1, maximum: 200, description: "How many (default 20)" } },
      additionalProperties: false,
    },
    execute: async (args, { sessionKey }) => {
      const limit = typeof args.limit === "number" ? Math.min(Math.max(1, args.limit), 200) : 20;
      const messages = await store.history(sessionKey, limit);
      if (messages.length === 0) return "(no messages yet)";
      return messages
        .map((message) => `[${new Date(message.timestamp).toISOString()}] ${message.role}: ${chatMessageText(message)}`)
        .join("\n");
    },
  };
}
