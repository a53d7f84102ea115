import {
  type AuthMode,
  type ConnectErrorDetailCode,
  ConnectErrorDetailCodes,
  type ConnectParams,
  hasScope,
  OPERATOR_SCOPES,
  type OperatorScope,
  type Role,
  SUPPORTED_PROTOCOL_RANGE,
} from "@gateway/protocol";
import { type AuthRateLimiter, rateLimitExempt, rateLimitKey, secretsEqual } from "./auth.js";
import { type FrontDoorSettings, isAllowedOrigin, isLoopback, originRefusal } from "./front-door.js";
import type { AuthOptions } from "./options.js";

/** Everything a connect stage may read, and the grant it may change. */
export interface ConnectContext {
  readonly params: ConnectParams;
  readonly connectionId: string;
  readonly remoteAddress: string;
  /** The browser `Origin` header, when the client is a browser. */
  readonly origin: string | undefined;
  /** The `Host` header of the upgrade request. */
  readonly host: string | undefined;
  /** The nonce sent in `connect.challenge`; device signatures must cover it. */
  readonly challengeNonce: string;
  /** The upgrade request carried forwarded headers (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`): never "local". */
  readonly forwarded: boolean;
  readonly authMode: AuthMode;
  /** How the client proved itself; set by the authentication stage (or a device stage). */
  authenticatedBy: "none" | "token" | "password" | "device-token" | undefined;
  /** Set by a device-identity stage once the signature is verified. */
  deviceId: string | undefined;
  /** A device token to return in `hello-ok.auth`. */
  deviceToken: string | undefined;
  issuedAtMs: number | undefined;
  /** Set by a device stage: the scopes this device (or its token) was approved for; the grant never exceeds them. */
  scopeLimit: readonly string[] | undefined;
}

/** One stage of the connect pipeline. Throw a `ConnectRefusal` to refuse the connection. */
export type ConnectStage = (context: ConnectContext) => void | Promise<void>;

/** A refused handshake: answered with an error whose `details.code` says why, then closed with 1008. */
export class ConnectRefusal extends Error {
  constructor(
    readonly detailCode: ConnectErrorDetailCode,
    message: string,
    readonly extra: { retryAfterMs?: number; requestId?: string; reason?: string; supportedProtocol?: object } = {},
  ) {
    super(message);
    this.name = "ConnectRefusal";
  }
}

/** The outcome of a successful pipeline: the granted role and scopes. */
export interface ConnectGrant {
  role: Role;
  scopes: OperatorScope[];
  deviceId?: string;
  deviceToken?: string;
  issuedAtMs?: number;
}

/** Settings the built-in stages need. */
export interface PipelineSettings extends FrontDoorSettings {
  auth: AuthOptions;
  /** What a browser gets when auth mode is `none` (nothing proves who opened the page). */
  authNoneBrowserScopes: readonly OperatorScope[];
  rateLimiter: AuthRateLimiter;
  /** Stages before the shared-secret check: a device-token stage that sets `authenticatedBy` goes here. */
  beforeAuthStages: readonly ConnectStage[];
  /** Stages after it: device identity verification and pairing approval go here. */
  afterAuthStages: readonly ConnectStage[];
  onAuthFailure(reason: string): void;
}

/** Protocol range: 4 must be within [minProtocol, maxProtocol]. */
const checkProtocol: ConnectStage = ({ params }) => {
  const { min, max } = SUPPORTED_PROTOCOL_RANGE;
  if (params.minProtocol > params.maxProtocol || params.maxProtocol < min || params.minProtocol > max) {
    throw new ConnectRefusal(
      ConnectErrorDetailCodes.PROTOCOL_UNSUPPORTED,
      `This gateway speaks protocol ${min === max ? min : `${min}–${max}`}; the client offered ${params.minProtocol}–${params.maxProtocol}. Update the client.`,
      { supportedProtocol: { min, max } },
    );
  }
};

/**
 * Browser connections (an `Origin` header) are accepted only from the gateway's own origin on a name it answers to
 * (so a DNS-rebound name does not pass) or from the allowlist. This stops cross-site WebSocket hijacking. The upgrade
 * is checked the same way before the socket opens; this stage keeps the handshake safe on its own.
 */
function checkOrigin(settings: PipelineSettings): ConnectStage {
  return ({ origin, host }) => {
    if (isAllowedOrigin(origin, host, settings)) return;
    settings.onAuthFailure("origin");
    throw new ConnectRefusal(ConnectErrorDetailCodes.ORIGIN_NOT_ALLOWED, originRefusal(origin ?? ""));
  };
}

/** Addresses locked out after too many failures are refused before any secret is compared. */
function checkRateLimit(settings: PipelineSettings): ConnectStage {
  return ({ remoteAddress, origin }) => {
    if (rateLimitExempt(remoteAddress, origin, isLoopback)) return;
    const retryAfterMs = settings.rateLimiter.retryAfterMs(rateLimitKey(remoteAddress, origin));
    if (retryAfterMs > 0) {
      settings.onAuthFailure("rate_limited");
      throw new ConnectRefusal(
        ConnectErrorDetailCodes.AUTH_RATE_LIMITED,
        `Too many failed attempts from ${remoteAddress}; try again in ${Math.ceil(retryAfterMs / 1000)} s.`,
        { retryAfterMs },
      );
    }
  };
}

/** The shared secret: token or password, compared in constant time. */
function authenticate(settings: PipelineSettings): ConnectStage {
  return (context) => {
    const { auth } = settings;
    if (context.authenticatedBy !== undefined) return; // an earlier stage (a device token) already authenticated
    if (auth.mode === "none") {
      context.authenticatedBy = "none";
      return;
    }
    const fail = (code: ConnectErrorDetailCode, message: string): never => {
      settings.onAuthFailure(code);
      const exempt = rateLimitExempt(context.remoteAddress, context.origin, isLoopback);
      const lockoutMs = exempt
        ? 0
        : settings.rateLimiter.recordFailure(rateLimitKey(context.remoteAddress, context.origin));
      throw new ConnectRefusal(code, message, lockoutMs > 0 ? { retryAfterMs: lockoutMs } : {});
    };
    const presented = context.params.auth ?? {};
    if (auth.mode === "token") {
      if (!presented.token) {
        fail(
          ConnectErrorDetailCodes.AUTH_TOKEN_MISSING,
          "This gateway needs a token: pass auth.token (the CLI reads it from the gateway's config or GATEWAY_TOKEN).",
        );
      }
      if (!secretsEqual(presented.token!, auth.token!)) {
        fail(ConnectErrorDetailCodes.AUTH_TOKEN_MISMATCH, "The token is wrong: use the gateway's gateway.auth.token.");
      }
      context.authenticatedBy = "token";
    } else {
      if (!presented.password) {
        fail(ConnectErrorDetailCodes.AUTH_PASSWORD_MISSING, "This gateway needs a password: pass auth.password.");
      }
      if (!secretsEqual(presented.password!, auth.password!)) {
        fail(ConnectErrorDetailCodes.AUTH_PASSWORD_MISMATCH, "The password is wrong.");
      }
      context.authenticatedBy = "password";
    }
    if (!rateLimitExempt(context.remoteAddress, context.origin, isLoopback))
      settings.rateLimiter.recordSuccess(rateLimitKey(context.remoteAddress, context.origin));
  };
}

/**
 * Role and scopes: operators get the scopes they ask for (none when they ask for none), bounded by what their device
 * was approved for; nodes need a device. With auth
 * `none` a browser is bounded by `authNoneBrowserScopes`: any page the user opens could be asking.
 */
function grant(context: ConnectContext, settings: PipelineSettings): ConnectGrant {
  const role = context.params.role ?? "operator";
  if (role !== "operator" && role !== "node") {
    throw new ConnectRefusal(ConnectErrorDetailCodes.ROLE_NOT_ALLOWED, `Unknown role "${role}": use operator or node.`);
  }
  if (role === "node" && context.deviceId === undefined) {
    throw new ConnectRefusal(
      ConnectErrorDetailCodes.DEVICE_IDENTITY_REQUIRED,
      "Node connections need a paired device identity (the `device` block of connect).",
    );
  }
  // An omitted list is no scopes (as the reference): a client states what it needs.
  const requested = context.params.scopes ?? [];
  const limit = context.scopeLimit;
  const scopes =
    role === "node"
      ? []
      : OPERATOR_SCOPES.filter((scope) => requested.includes(scope) && (limit === undefined || hasScope(limit, scope)));
  const unproven = context.authenticatedBy === "none" && context.origin !== undefined;
  const bounded = unproven ? scopes.filter((scope) => settings.authNoneBrowserScopes.includes(scope)) : scopes;
  const result: ConnectGrant = { role, scopes: bounded };
  if (context.deviceId !== undefined) result.deviceId = context.deviceId;
  if (context.deviceToken !== undefined) result.deviceToken = context.deviceToken;
  if (context.issuedAtMs !== undefined) result.issuedAtMs = context.issuedAtMs;
  return result;
}

/**
 * Run the connect pipeline: protocol range, origin, rate limit, [before-auth stages], shared-secret auth,
 * [after-auth stages: device identity and pairing], then the role and scope grant.
 */
export async function runConnectPipeline(context: ConnectContext, settings: PipelineSettings): Promise<ConnectGrant> {
  const stages: ConnectStage[] = [
    checkProtocol,
    checkOrigin(settings),
    checkRateLimit(settings),
    ...settings.beforeAuthStages.map((stage) => countingCredentialFailures(stage, settings)),
    authenticate(settings),
    ...settings.afterAuthStages,
  ];
  for (const stage of stages) await stage(context);
  return grant(context, settings);
}

/** A refused device proof or device token counts as a failed attempt, as a wrong token does (no free guessing). */
function countingCredentialFailures(stage: ConnectStage, settings: PipelineSettings): ConnectStage {
  return async (context) => {
    try {
      await stage(context);
    } catch (error) {
      const credential =
        error instanceof ConnectRefusal &&
        (error.detailCode.startsWith("DEVICE_AUTH_") ||
          error.detailCode === ConnectErrorDetailCodes.AUTH_DEVICE_TOKEN_MISMATCH);
      if (!credential) throw error;
      settings.onAuthFailure(error.detailCode);
      if (rateLimitExempt(context.remoteAddress, context.origin, isLoopback)) throw error;
      const lockoutMs = settings.rateLimiter.recordFailure(rateLimitKey(context.remoteAddress, context.origin));
      if (lockoutMs <= 0) throw error;
      throw new ConnectRefusal(error.detailCode, error.message, { ...error.extra, retryAfterMs: lockoutMs });
    }
  };
}
