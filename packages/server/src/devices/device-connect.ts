// The device stages of the connect pipeline. Before the shared-secret check: the device proof is verified whenever a
// `device` block is present — never skipped because some other credential is (CVE-2026-28472) — and a device token
// authenticates the device it was issued to. After it: a device seen for the first time, or asking for more than it
// was approved for, needs approval; a paired one gets at most what was approved, and a fresh device token.
import { type DeviceStore, type PairingReason, scopesCover, verifyDeviceProof } from "@gateway/pairing";
import { ConnectErrorDetailCodes, type ConnectParams, ErrorCodes } from "@gateway/protocol";
import { type ConnectContext, ConnectRefusal, type ConnectStage } from "../connect-pipeline.js";
import { ProtocolError } from "../errors.js";
import { isAllowedOrigin, isLoopback } from "../front-door.js";

/** What the device stages need from the device service. */
export interface DeviceConnectHost {
  readonly store: DeviceStore;
  /** Pair direct loopback connections without asking (never through a proxy or from a foreign Origin). */
  autoApproveLoopback(): boolean;
  /** Let a browser Control UI connect without a device identity (an explicit insecure-local setting). */
  allowDevicelessControlUi(): boolean;
  /** The names the gateway answers to, for "the gateway's own origin". */
  frontDoor(): { bindHost: string; allowedHosts: readonly string[]; allowedOrigins: readonly string[] };
  /** A new request is pending: tell operators. */
  requested(request: ReturnType<DeviceStore["list"]>["pending"][number]): void;
  /** A node connected: what it declared (the registry takes it once the handshake completes). */
  nodeDeclared(connectionId: string, deviceId: string, params: ConnectParams): void;
  log(message: string, fields: Record<string, unknown>): void;
}

const MESSAGES: Record<PairingReason, string> = {
  "not-paired": "device pairing required: approve it with `gateway devices approve",
  "role-upgrade": "role upgrade pending approval: approve it with `gateway devices approve",
  "scope-upgrade": "scope upgrade pending approval: approve it with `gateway devices approve",
  "metadata-upgrade": "device metadata changed and must be re-approved: `gateway devices approve",
};

/** A Control UI in a browser: the reference's and ours. */
function isControlUi(context: ConnectContext): boolean {
  return context.origin !== undefined && /(^|-)control-ui$/.test(context.params.client.id);
}

const role = (context: ConnectContext): string => context.params.role ?? "operator";
const requestedScopes = (context: ConnectContext): string[] =>
  role(context) === "operator" ? [...(context.params.scopes ?? [])] : [];

/** Verify the device proof and, when one is presented, the device token. */
export function verifyDevice(host: DeviceConnectHost): ConnectStage {
  return (context) => {
    const { params } = context;
    const device = params.device;
    const auth = params.auth ?? {};
    if (!device) {
      if (auth.deviceToken) {
        throw new ConnectRefusal(
          ConnectErrorDetailCodes.DEVICE_IDENTITY_REQUIRED,
          "auth.deviceToken needs the signed device block of the device it was issued to",
        );
      }
      return;
    }
    // A store cut off from the fleet may hold a token revoked elsewhere: no device is let in on it meanwhile.
    const stale = host.store.staleness();
    if (stale) {
      host.log("device connect refused: the device store may be out of date", { reason: stale });
      throw new ProtocolError(
        ErrorCodes.UNAVAILABLE,
        `devices cannot connect to this instance right now (${stale}); retry shortly or connect to another instance`,
        { retryable: true, retryAfterMs: 1_000 },
      );
    }
    const result = verifyDeviceProof(device, {
      clientId: params.client.id,
      clientMode: params.client.mode,
      role: role(context),
      scopes: params.scopes ?? [],
      token: auth.token ?? auth.deviceToken ?? auth.bootstrapToken ?? "",
      platform: params.client.platform,
      deviceFamily: params.client.deviceFamily,
      challengeNonce: context.challengeNonce,
      now: Date.now(),
    });
    if (!result.ok) {
      host.log("device proof refused", { code: result.code, remote: context.remoteAddress });
      throw new ConnectRefusal(result.code, result.message);
    }
    context.deviceId = result.deviceId;
    // The reference's clients send a cached device token as auth.deviceToken and as auth.token.
    const explicit = auth.deviceToken;
    const candidate = explicit ?? auth.token;
    if (!candidate) return;
    const verified = host.store.verifyToken(result.deviceId, role(context), candidate);
    if (verified) {
      context.authenticatedBy = "device-token";
      context.scopeLimit = verified.scopes;
      return;
    }
    if (explicit && (!auth.token || auth.token === explicit) && !auth.password) {
      throw new ConnectRefusal(
        ConnectErrorDetailCodes.AUTH_DEVICE_TOKEN_MISMATCH,
        "device token rejected (rotated, revoked or for another role): connect with the gateway token to pair again",
      );
    }
  };
}

/** Whether this connection may be paired without asking: direct loopback, no proxy, no foreign browser Origin. */
function mayPairSilently(context: ConnectContext, host: DeviceConnectHost): boolean {
  if (!host.autoApproveLoopback() || context.forwarded || !isLoopback(context.remoteAddress)) return false;
  // A device token holder never widens its own approval: only a shared secret (or auth "none" on loopback) may.
  if (context.authenticatedBy === "device-token") return false;
  if (context.origin === undefined) return true;
  // The gateway's own pages, and pages the operator allowed that are served from this machine (a loopback host).
  const frontDoor = host.frontDoor();
  const localAllowed = frontDoor.allowedOrigins.filter((allowed: string) => {
    try {
      return isLoopback(new URL(allowed).hostname.replace(/^\[|\]$/g, ""));
    } catch {
      return false;
    }
  });
  return isAllowedOrigin(context.origin, context.host, { ...frontDoor, allowedOrigins: localAllowed });
}

function pairingReason(context: ConnectContext, host: DeviceConnectHost): PairingReason | undefined {
  const device = host.store.device(context.deviceId!);
  if (!device) return "not-paired";
  if (!device.roles.includes(role(context))) return "role-upgrade";
  if (!scopesCover(device.scopes, requestedScopes(context))) return "scope-upgrade";
  const { platform, deviceFamily } = context.params.client;
  const pinned = (value: string | undefined) => value?.trim().toLowerCase() ?? "";
  if (device.platform !== undefined && pinned(device.platform) !== pinned(platform)) return "metadata-upgrade";
  if (device.deviceFamily !== undefined && pinned(device.deviceFamily) !== pinned(deviceFamily))
    return "metadata-upgrade";
  return undefined;
}

/** Pairing approval: refuse (with a pending request) or grant within the approval, and issue a device token. */
export function approveDevice(host: DeviceConnectHost): ConnectStage {
  return async (context) => {
    const deviceId = context.deviceId;
    if (deviceId === undefined) {
      if (isControlUi(context) && role(context) === "operator" && !host.allowDevicelessControlUi()) {
        throw new ConnectRefusal(
          ConnectErrorDetailCodes.CONTROL_UI_DEVICE_IDENTITY_REQUIRED,
          "the Control UI needs a device identity (a secure context: https or localhost)",
        );
      }
      return;
    }
    const { params } = context;
    const reason = pairingReason(context, host);
    if (reason) {
      const input = {
        deviceId,
        publicKey: params.device!.publicKey,
        role: role(context),
        scopes: requestedScopes(context),
        reason,
        displayName: params.client.displayName,
        platform: params.client.platform,
        deviceFamily: params.client.deviceFamily,
        clientId: params.client.id,
        clientMode: params.client.mode,
        remoteIp: context.remoteAddress,
      };
      if (mayPairSilently(context, host)) {
        await host.store.approveDirect(input);
        host.log("device paired silently (direct loopback)", { deviceId, role: input.role, reason });
      } else {
        const { request, created } = await host.store.request(input);
        if (created) host.requested(request);
        throw new ConnectRefusal(
          ConnectErrorDetailCodes.PAIRING_REQUIRED,
          `${MESSAGES[reason]} ${request.requestId}\``,
          {
            requestId: request.requestId,
            reason,
          },
        );
      }
    }
    const device = host.store.device(deviceId)!;
    if (context.scopeLimit === undefined) context.scopeLimit = device.scopes;
    if (context.authenticatedBy !== "device-token") {
      const issued = await host.store.issueToken(deviceId, role(context));
      if (issued) {
        context.deviceToken = issued.token;
        context.issuedAtMs = issued.issuedAtMs;
      }
    }
    host.store.touch(deviceId);
    if (role(context) === "node") host.nodeDeclared(context.connectionId, deviceId, params);
  };
}
