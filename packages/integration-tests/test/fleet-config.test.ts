// Three gateways on one Redis with the same config file: a config.patch accepted on one instance is applied on all
// three with one resulting hash; when one instance's file differs, the edit is refused on every instance and no
// file changes.
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { until } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { fleetInstance, fleetPrefix, redisAvailable } from "./fleet-harness.js";
import { stopAll, type TestGateway } from "./harness.js";

afterEach(stopAll);

async function configOf(instance: TestGateway): Promise<{ hash: string; level: unknown }> {
  const client = await instance.client();
  const result = await client.request("config.get", {});
  client.close();
  return { hash: result.hash!, level: (result.config as { logging?: { level?: string } }).logging?.level };
}

const fileOf = (instance: TestGateway) => readFileSync(join(instance.stateDir, "gateway.json5"), "utf8");

describe("config edits across a fleet", () => {
  it("a patch on one instance is applied on all with one hash; a file that differs refuses it on all", async (context) => {
    if (!redisAvailable()) return context.skip();
    const keyPrefix = fleetPrefix();
    const instances = [
      await fleetInstance("a", keyPrefix),
      await fleetInstance("b", keyPrefix),
      await fleetInstance("c", keyPrefix),
    ];
    const [a, b, c] = instances as [TestGateway, TestGateway, TestGateway];
    // Every instance is in the registry before the edit (each beats within its first start).
    await until(
      async () => {
        const client = await b.client();
        const status = await client.request("fleet.status", {});
        client.close();
        return status.members.length === 3;
      },
      { message: "the three instances to see each other" },
    );
    const before = await configOf(b);
    expect(new Set(await Promise.all(instances.map(async (instance) => (await configOf(instance)).hash)))).toEqual(
      new Set([before.hash]),
    );

    const operator = await b.client();
    const result = await operator.request("config.patch", {
      raw: '{ logging: { level: "debug" } }',
      baseHash: before.hash,
    });
    expect(result.hash).not.toBe(before.hash);
    for (const instance of instances) expect(await configOf(instance)).toEqual({ hash: result.hash, level: "debug" });
    expect(fileOf(a)).toBe(fileOf(c));

    // c's file is edited by hand: the next fleet edit is refused everywhere, naming c, and no file changes.
    appendFileSync(join(c.stateDir, "gateway.json5"), "\n// edited on c only\n");
    const files = instances.map(fileOf);
    const refused = await operator
      .request("config.patch", { raw: '{ logging: { level: "warn" } }', baseHash: result.hash })
      .then(
        () => undefined,
        (error: Error) => error,
      );
    expect(refused?.message).toMatch(/refused on every instance \(nothing changed\).*\bc: /);
    expect(instances.map(fileOf)).toEqual(files);
    for (const instance of [a, b]) expect((await configOf(instance)).level).toBe("debug");
  });

  it("an instance that cannot apply the edit at commit: the others are put back, every file as before", async (context) => {
    if (!redisAvailable()) return context.skip();
    const keyPrefix = fleetPrefix();
    const a = await fleetInstance("a", keyPrefix);
    const b = await fleetInstance("b", keyPrefix);
    await until(
      async () => {
        const client = await a.client();
        const status = await client.request("fleet.status", {});
        client.close();
        return status.members.length === 2;
      },
      { message: "the two instances to see each other" },
    );
    // b's logging owner refuses the new level when it is applied (after b agreed to the edit in the prepare).
    b.gateway.config.subscribe("logging", () => {
      throw new Error("this instance cannot log at that level");
    });
    const before = await configOf(a);
    const files = [a, b].map(fileOf);
    const operator = await a.client();
    const failed = await operator
      .request("config.patch", { raw: '{ logging: { level: "debug" } }', baseHash: before.hash })
      .then(
        () => undefined,
        (error: Error) => error,
      );
    expect(failed?.message).toMatch(/could not be applied on every instance and was undone.*\bb: /);
    expect([a, b].map(fileOf)).toEqual(files);
    for (const instance of [a, b]) expect(await configOf(instance)).toEqual(before);
  });
});
