import type { ConfigIssue } from "./errors.js";

const VARIABLE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replace `${VAR}` in every string of `value` with the environment's value. A missing or empty variable is an issue
 * naming the variable and the config path; `$${VAR}` is an escape for a literal `${VAR}`.
 */
export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  issues: ConfigIssue[],
  path = "",
): unknown {
  if (typeof value === "string") {
    return value.replace(VARIABLE, (match, escaped: string, name: string) => {
      if (escaped) return match.slice(1);
      const replacement = env[name];
      if (replacement === undefined || replacement === "") {
        issues.push({
          path,
          message: `environment variable ${name} is ${replacement === undefined ? "not set" : "empty"}`,
          hint: `set ${name} (the .env file in the state directory is read too), or write $\${${name}} for a literal`,
        });
        return match;
      }
      return replacement;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, issues, `${path}[${index}]`));
  if (value !== null && typeof value === "object") {
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      result[key] = substituteEnv(child, env, issues, path ? `${path}.${key}` : key);
    }
    return result;
  }
  return value;
}

/** Parse a `.env` file: `KEY=value`, `export KEY=value`, quotes, `#` comments. */
export function parseDotEnv(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\"/g, '"');
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    result[match[1]!] = value;
  }
  return result;
}
