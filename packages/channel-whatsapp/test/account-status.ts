import type { createTestContext } from "@gateway/plugin-sdk/test-context";

/**
 * The account's status as one flat record: the common fields beside the WhatsApp details (`connectionState`,
 * `linkedNumber`, `lid`, `lastDisconnect`), which the account reports under `details`.
 */
export function accountStatus(test: ReturnType<typeof createTestContext>): Record<string, unknown> {
  const status = test.status() as unknown as Record<string, unknown> & { details?: Record<string, unknown> };
  return { ...status, ...(status.details ?? {}) };
}
