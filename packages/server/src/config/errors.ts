import { GatewayError, hasErrorMarker, invalidRequest, type ProtocolError } from "@gateway/protocol";

/** One problem with the configuration: where, what was expected, what was found, and a hint. */
export interface ConfigIssue {
  /** Dotted path in the config (`gateway.auth.mode`), or the file for syntax and include errors. */
  readonly path: string;
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
  readonly hint?: string;
}

const CONFIG_ERROR = Symbol.for("gateway.error.config");

/** The configuration could not be loaded or is invalid; `issues` lists every problem, not just the first. */
export class ConfigError extends GatewayError {
  readonly [CONFIG_ERROR] = true;

  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
    options: { cause?: unknown } = {},
  ) {
    super(
      "CONFIG_INVALID",
      `${file}: ${issues.length} problem${issues.length === 1 ? "" : "s"}\n${formatIssues(issues)}`,
      options,
    );
  }

  /** Whether `value` is a ConfigError, across package copies. */
  static override isInstance(value: unknown): value is ConfigError {
    return hasErrorMarker(value, CONFIG_ERROR);
  }

  /** A config that does not validate is the caller's to fix: INVALID_REQUEST with every issue. */
  override toProtocolError(): ProtocolError {
    return invalidRequest(this.message, { issues: this.issues });
  }
}

/** One line per issue, for terminals and logs. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues
    .map((issue) => {
      const parts = [`  ${issue.path || "(root)"}: ${issue.message}`];
      if (issue.expected !== undefined) parts.push(`expected ${issue.expected}`);
      if (issue.found !== undefined) parts.push(`found ${issue.found}`);
      let line = parts.join("; ");
      if (issue.hint) line += ` — ${issue.hint}`;
      return line;
    })
    .join("\n");
}
