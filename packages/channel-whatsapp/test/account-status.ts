import type { createTestContext } from "@gateway/plugin-sdk/test-context";

/**
 * The account's status as one flat record: the common fields beside the WhatsApp details (`connectionState`,
 * `linkedNumber`, `lid`, `lastDisconnect`), which the account reports under `details`.
 */
export function accountStatus(
  test: ReturnType<typeof createTestContext>,
): ReturnType<ReturnType<typeof createTestContext>["status"]> & Record<string, unknown> {
  const status = test.status();
  return { ...status, ...((status.details ?? {}) as Record<string, unknown>) };
}
