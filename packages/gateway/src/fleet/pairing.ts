import { DeviceEntry, type DeviceStore, DmPairingAccount, type DmPairingStore } from "@gateway/pairing";
import type { GatewayServer } from "@gateway/server";
import type { TSchema } from "@sinclair/typebox";
import type { FleetMembership } from "./membership.js";

/** A pairing store that can keep its records in a shared storage. */
interface ShareableStore {
  share(storage: never): Promise<{ imported: number }>;
}

/**
 * In a fleet, the pairing stores keep their records in Redis: the device store (pairing, device tokens, nodes), so
 * that a device approved on one instance connects on any and a token revoked on one stops working on all (their
 * connections close); and DM pairing, so that a code issued by the instance running an account can be approved on
 * any and holds wherever the account runs next. Until the records are read no device is let in and no sender judged;
 * when Redis cannot be read at start it is retried every second.
 */
export function attachFleetPairing(
  server: GatewayServer,
  fleet: FleetMembership,
  stores: { devices: DeviceStore; dmPairing: DmPairingStore },
): void {
  const { devices, dmPairing } = stores;
  devices.awaitShare("the fleet's devices are not read from Redis yet");
  dmPairing.awaitShare("the fleet's DM pairing records are not read from Redis yet");
  const shared: Array<{ close(): void }> = [];
  let stopped = false;

  async function share(name: string, schema: TSchema, store: ShareableStore): Promise<void> {
    const [parts, { SharedRecords }] = await Promise.all([fleet.parts(), import("@gateway/fleet")]);
    for (let attempt = 0; !stopped; attempt++) {
      const records = new SharedRecords(parts.redis, {
        keyPrefix: parts.keyPrefix,
        name,
        schema,
        self: parts.id,
        onProblem: (message) => server.logger.warn(`fleet ${name}: ${message}`),
      });
      shared.push(records);
      try {
        const { imported } = await store.share(records as never);
        server.logger.info(
          `fleet: ${name} shared through Redis${imported > 0 ? ` (${imported} records carried over from this instance's state file)` : ""}`,
        );
        return;
      } catch (error) {
        records.close();
        shared.splice(shared.indexOf(records), 1);
        if (attempt === 0)
          server.logger.warn(
            `fleet: cannot read the ${name} from Redis (${(error as Error).message}); retrying every second — until then this instance waits with them`,
          );
        await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
      }
    }
  }

  server.registerService({
    name: "fleet-pairing",
    start() {
      void share("devices", DeviceEntry, devices);
      void share("dm-pairing", DmPairingAccount, dmPairing);
    },
    stop() {
      stopped = true;
      for (const records of shared) records.close();
    },
  });
}
