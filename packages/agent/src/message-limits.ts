import { invalidRequest } from "@gateway/protocol";
import type { SessionStorage } from "./session-storage.js";

/** The size limits of a session's messages (`session.maxMessageBytes`, `session.maxTranscriptBytes`). */
export interface MessageLimits {
  /** @default 1048576 */
  maxMessageBytes?: number;
  /** @default 67108864 */
  maxTranscriptBytes?: number;
}

/** Refuse a message too large for one message, or for what is left of the session's transcript. */
export async function checkRoom(
  store: SessionStorage,
  sessionKey: string,
  message: string,
  limits: MessageLimits,
): Promise<void> {
  const bytes = Buffer.byteLength(message);
  const maxMessage = limits.maxMessageBytes ?? 1_048_576;
  if (bytes > maxMessage)
    throw invalidRequest(
      `message too large: ${formatBytes(bytes)}; the limit is ${formatBytes(maxMessage)} (session.maxMessageBytes)`,
    );
  const maxTranscript = limits.maxTranscriptBytes ?? 67_108_864;
  if ((await store.transcriptBytes(sessionKey)) + bytes > maxTranscript)
    throw invalidRequest(
      `this session's transcript is full (${formatBytes(maxTranscript)}, session.maxTranscriptBytes): send /new to start a new session`,
    );
}

/** 1.5 MB, 512 KB, 900 B. */
function formatBytes(bytes: number): string {
  if (bytes >= 1_048_576) return `${(bytes / 1_048_576).toFixed(1).replace(/\.0$/, "")} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}
