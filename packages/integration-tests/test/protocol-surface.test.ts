// The surface a gateway advertises is the one it has: every method the table marks implemented is registered by the
// composition (and nothing else), hello-ok lists exactly those and the events it really sends, and a planned method
// answers "unknown method".
import { EMITTED_EVENT_NAMES, IMPLEMENTED_METHOD_NAMES, METHOD_NAMES, MethodTable } from "@gateway/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { startGateway, stopAll } from "./harness.js";

afterEach(stopAll);

describe("an honest protocol surface", () => {
  it("hello-ok advertises the registered methods — exactly the table's implemented ones — and the emitted events", async () => {
    const { client } = await startGateway();
    const hello = await (await client()).ready();
    const expected = IMPLEMENTED_METHOD_NAMES.filter((name) => name !== "connect");
    expect([...hello.features.methods].sort()).toEqual([...expected].sort());
    expect([...hello.features.events].sort()).toEqual([...EMITTED_EVENT_NAMES].sort());
  });

  it("a planned method is not there: it answers unknown method", async () => {
    const { client } = await startGateway();
    const operator = await client();
    const planned = METHOD_NAMES.filter((name) => (MethodTable[name] as { status?: string }).status === "planned");
    expect(planned.length).toBeGreaterThan(0);
    for (const method of planned) {
      const failure = await operator.call(method, {}).catch((error: unknown) => error);
      expect(failure, method).toMatchObject({ code: "INVALID_REQUEST", message: `unknown method: ${method}` });
    }
  });
});
