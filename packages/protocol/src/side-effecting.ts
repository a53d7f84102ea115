/**
 * Methods that need an `idempotencyKey` (a retry with the same key returns the first result). A plain list so a client
 * can use it without pulling in the schemas; a test checks it against the method table.
 */
export const SIDE_EFFECTING_METHODS: readonly string[] = [
  "send",
  "message.action",
  "poll",
  "agent",
  "chat.send",
  "node.invoke",
];
