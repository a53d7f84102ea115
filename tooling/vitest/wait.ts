// Tests wait for conditions, not for time: a fixed sleep is either too short on a busy machine (a flaky test) or
// too long everywhere (a slow suite). These poll briefly and fail with what was awaited.

/** How long to wait and how often to look. */
export interface WaitOptions {
  /** @default 5000 */
  timeoutMs?: number;
  /** @default 10 */
  intervalMs?: number;
  /** Said when the wait times out. */
  message?: string;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolve once `check` holds; reject after `timeoutMs` naming what was awaited. */
export async function until(check: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 5_000, intervalMs = 10 } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.message ?? check.toString()}`);
    await pause(intervalMs);
  }
}

/** Run `assertion` until it stops throwing and return its value; after `timeoutMs`, rethrow its last error. */
export async function eventually<T>(assertion: () => T | Promise<T>, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 5_000, intervalMs = 10 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await pause(intervalMs);
    }
  }
}

/** Resolve with the first match of `pattern` in the growing text `read()` returns (a process's output, a log). */
export async function waitForLog(
  read: () => string,
  pattern: RegExp,
  options: WaitOptions = {},
): Promise<RegExpExecArray> {
  let match: RegExpExecArray | null = null;
  await until(
    () => {
      match = pattern.exec(read());
      return match !== null;
    },
    { ...options, message: options.message ?? `${pattern} in the output` },
  );
  return match!;
}

/**
 * Wait out a negative window: `ms` in which something must NOT happen (no second reply, no retry after a fatal error).
 * The one place a test waits for time rather than a condition, so each use says what must not happen and why `ms` is
 * long enough for it to have shown (usually: longer than the backoff or poll interval that would produce it).
 */
export function settle(ms: number): Promise<void> {
  return pause(Math.max(0, ms));
}

/**
 * Whether something a test group needs is here. When it is not: under CI (`CI=true`) it throws, so the run fails
 * instead of silently skipping; elsewhere it warns loudly. For `describe.skipIf(!checkAvailable(...))`.
 */
export function checkAvailable(available: boolean, what: string): boolean {
  if (available) return true;
  if (process.env.CI === "true") throw new Error(`CI must run this test, but ${what} is missing here`);
  console.warn(`\n⚠ SKIPPING: ${what} is missing on this machine\n`);
  return false;
}

/**
 * Skip a test that needs something this machine lacks — loudly, and never under CI (`CI=true`), where it fails
 * instead: a CI run that silently skips proves nothing. Pass `() => context.skip()`; after the call, `available` holds.
 */
export function skipUnlessAvailable(available: boolean, what: string, skip: () => never): asserts available {
  if (!checkAvailable(available, what)) skip();
}
