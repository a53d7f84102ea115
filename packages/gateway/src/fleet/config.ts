import { randomUUID } from "node:crypto";
import type { ConfigWriteResult } from "@gateway/protocol";
import {
  type ConfigEditKind,
  type ConfigManager,
  type GatewayServer,
  PreparedConfigEdits,
  ProtocolError,
} from "@gateway/server";
import { Type } from "@sinclair/typebox";
import type { FleetMembership } from "./membership.js";

const PrepareParams = Type.Object({
  id: Type.String({ minLength: 1 }),
  kind: Type.Union([Type.Literal("set"), Type.Literal("patch"), Type.Literal("apply")]),
  raw: Type.String(),
  baseHash: Type.Optional(Type.String()),
});
const EditId = Type.Object({ id: Type.String({ minLength: 1 }) });
const Prepared = Type.Object({ hash: Type.String() });
const Committed = Type.Object({ hash: Type.String() }, { additionalProperties: true });

/** How long the coordinator waits for each instance's prepare or commit. */
const CALL_TIMEOUT_MS = 5_000;

/**
 * In a fleet, `config.set/patch/apply` accepted on one instance is applied on every live instance or refused on all,
 * with one resulting hash (each instance keeps its own file, which must be the same file: set `fleet.instanceId`
 * through `GATEWAY_FLEET_INSTANCE_ID`). Two phases over the fleet's RPC: every instance checks the edit against its
 * file and holds its config (prepare); only when all agree on the resulting hash is it written everywhere (commit);
 * an instance that fails to commit gets the others reverted. A hand edit of one file stays that instance's own.
 */
export function attachFleetConfig(server: GatewayServer, fleet: FleetMembership, manager: ConfigManager): void {
  const prepared = new PreparedConfigEdits(manager);
  let ready: Promise<import("./membership.js").FleetParts> | undefined;
  const parts = () => {
    ready ??= fleet.parts().then((fleetParts) => {
      const { rpc } = fleetParts;
      rpc.serve(
        "config.prepare",
        (params) => {
          const { id, kind, raw, baseHash } = params as {
            id: string;
            kind: ConfigEditKind;
            raw: string;
            baseHash?: string;
          };
          return prepared.prepare(id, kind, raw, baseHash);
        },
        { params: PrepareParams },
      );
      rpc.serve("config.commit", (params) => prepared.commit((params as { id: string }).id), { params: EditId });
      rpc.serve("config.abort", (params) => prepared.abort((params as { id: string }).id), { params: EditId });
      rpc.serve("config.revert", (params) => prepared.revert((params as { id: string }).id), { params: EditId });
      return fleetParts;
    });
    return ready;
  };
  server.registerService({ name: "fleet-config", start: () => void parts(), stop() {} });

  manager.coordinateWrites(async (kind, raw, baseHash): Promise<ConfigWriteResult> => {
    const { rpc, registry, id: self } = await parts();
    const members = await registry.members().catch((error: Error) => {
      throw new ProtocolError(
        "UNAVAILABLE",
        `config edits in a fleet need its Redis, which does not answer (${error.message}); nothing changed`,
        { retryable: true },
      );
    });
    const others = members.map((member) => member.id).filter((member) => member !== self);
    const editId = randomUUID();
    const params = { id: editId, kind, raw, ...(baseHash !== undefined ? { baseHash } : {}) };
    const call = (target: string, method: string, body: unknown, result?: typeof Prepared) =>
      rpc.call(target, method, body, { timeoutMs: CALL_TIMEOUT_MS, ...(result ? { result } : {}) });

    // Phase one: this instance first (an edit that is invalid here is refused as on one instance), then the others.
    const local = await prepared.prepare(editId, kind, raw, baseHash);
    const remote = await Promise.allSettled(
      others.map((target) => call(target, "config.prepare", params, Prepared) as Promise<{ hash: string }>),
    );
    const refusals = remote.flatMap((outcome, index) =>
      outcome.status === "rejected"
        ? [`${others[index]}: ${(outcome.reason as Error).message}`]
        : outcome.value.hash !== local.hash
          ? [`${others[index]}: its file would end with another hash (the instances' config files differ)`]
          : [],
    );
    if (refusals.length > 0) {
      prepared.abort(editId);
      await Promise.allSettled(others.map((target) => call(target, "config.abort", { id: editId })));
      throw new ProtocolError(
        "INVALID_REQUEST",
        `the config edit was refused on every instance (nothing changed), because ${refusals.join("; ")}`,
        { details: { refusals } },
      );
    }

    // Phase two: every instance writes and applies it.
    const committed = await Promise.allSettled([
      prepared.commit(editId),
      ...others.map((target) => call(target, "config.commit", { id: editId }, Committed)),
    ]);
    const failed = committed.flatMap((outcome, index) =>
      outcome.status === "rejected"
        ? [`${index === 0 ? self : others[index - 1]}: ${(outcome.reason as Error).message}`]
        : [],
    );
    if (failed.length > 0) {
      // Put back the instances that did apply it: refused on all.
      await Promise.allSettled(
        committed.map((outcome, index) => {
          if (outcome.status === "rejected") return Promise.resolve();
          return index === 0 ? prepared.revert(editId) : call(others[index - 1]!, "config.revert", { id: editId });
        }),
      );
      throw new ProtocolError(
        "UNAVAILABLE",
        `the config edit could not be applied on every instance and was undone where it had been: ${failed.join("; ")}`,
        { details: { failed } },
      );
    }
    const result = (committed[0] as PromiseFulfilledResult<ConfigWriteResult>).value;
    server.logger.info({ instances: [self, ...others], hash: result.hash }, "config edit applied across the fleet");
    return result;
  });
}
