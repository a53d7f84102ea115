const SECRET_KEY = /(token|password|secret|apikey|api_key|privatekey)$/i;

/** Whether a config key holds a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A copy of `value` with every secret replaced by "[redacted]" (empty secrets stay empty so "unset" is visible). */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item)) as T;
  if (value !== null && typeof value === "object") {
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      result[key] = isSecretKey(key) && typeof child === "string" && child !== "" ? "[redacted]" : redactSecrets(child);
    }
    return result as T;
  }
  return value;
}
