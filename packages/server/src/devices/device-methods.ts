import { scopesCover } from "@gateway/pairing";
import { ErrorCodes } from "@gateway/protocol";
import { ProtocolError } from "../errors.js";
import type { GatewayServer } from "../gateway-server.js";
import { type DevicePairing, deviceRequestView, pairedDeviceView } from "./device-pairing.js";

const noRequest = (requestId: string) =>
  new ProtocolError(
    ErrorCodes.INVALID_REQUEST,
    `no pending device request ${requestId} (it may have expired after 5 minutes: connect the device again)`,
  );
const noDevice = (deviceId: string) =>
  new ProtocolError(ErrorCodes.INVALID_REQUEST, `no paired device ${deviceId} (see device.pair.list)`);

/** `device.pair.list|approve|reject|remove` and `device.token.rotate|revoke`. */
export function registerDeviceMethods(server: GatewayServer, devices: DevicePairing): void {
  const { store } = devices;
  server.registerMethod("device.pair.list", () => {
    const { pending, paired } = store.list();
    return { pending: pending.map(deviceRequestView), paired: paired.map(pairedDeviceView) };
  });

  server.registerMethod("device.pair.approve", async ({ requestId }) => {
    const approved = await store.approve(requestId);
    if (!approved) throw noRequest(requestId);
    const resolved = { requestId, deviceId: approved.device.deviceId, decision: "approved" as const, ts: Date.now() };
    server.broadcast("device.pair.resolved", resolved);
    server.logger.info({ deviceId: resolved.deviceId, roles: approved.device.roles }, "device approved");
    return resolved;
  });

  server.registerMethod("device.pair.reject", async ({ requestId }) => {
    const rejected = await store.reject(requestId);
    if (!rejected) throw noRequest(requestId);
    const resolved = { requestId, deviceId: rejected.deviceId, decision: "rejected" as const, ts: Date.now() };
    server.broadcast("device.pair.resolved", resolved);
    return resolved;
  });

  server.registerMethod("device.pair.remove", async ({ deviceId }) => {
    const removed = await store.remove(deviceId);
    if (removed) devices.disconnectDevice(deviceId, undefined, "device removed: pair it again");
    return { ok: true as const, deviceId, removed };
  });

  server.registerMethod("device.token.rotate", async ({ deviceId, role, scopes }) => {
    const device = store.device(deviceId);
    if (!device) throw noDevice(deviceId);
    if (!device.roles.includes(role))
      throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `device ${deviceId} is not approved for role ${role}`);
    if (scopes && !scopesCover(role === "operator" ? device.scopes : [], scopes)) {
      throw new ProtocolError(
        ErrorCodes.INVALID_REQUEST,
        `a device token never widens the approval: ${deviceId} is approved for ${device.scopes.join(", ") || "no scopes"}`,
      );
    }
    const issued = await store.issueToken(deviceId, role, scopes, { rotate: true });
    if (!issued) throw noDevice(deviceId);
    devices.disconnectDevice(deviceId, role, "device token rotated: reconnect with the new token");
    return {
      deviceId,
      role,
      token: issued.token,
      tokenDelivery: "in-band" as const,
      scopes: issued.scopes,
      rotatedAtMs: issued.issuedAtMs,
    };
  });

  server.registerMethod("device.token.revoke", async ({ deviceId, role }) => {
    if (!store.device(deviceId)) throw noDevice(deviceId);
    const revoked = await store.revokeToken(deviceId, role);
    devices.disconnectDevice(deviceId, role, "device token revoked");
    return { ok: true as const, deviceId, role, revoked };
  });
}
