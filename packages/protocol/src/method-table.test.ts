import { describe, expect, it } from "vitest";
import { EVENT_NAMES, EventTable } from "./events.js";
import { buildProtocolJsonSchema } from "./json-schema.js";
import { isMethodName, METHOD_NAMES, type MethodDefinition, MethodTable, requiredScope } from "./method-table.js";
import { hasScope } from "./scopes.js";
import { SIDE_EFFECTING_METHODS } from "./side-effecting.js";
import { compiledChecker, describeIssues, validateParams } from "./validators.js";

describe("method table", () => {
  it("compiles every params and result schema", () => {
    for (const name of METHOD_NAMES) {
      const definition: MethodDefinition = MethodTable[name];
      expect(() => compiledChecker(definition.params), name).not.toThrow();
      expect(() => compiledChecker(definition.result), name).not.toThrow();
    }
  });

  it("requires an idempotencyKey exactly for side-effecting methods", () => {
    for (const name of METHOD_NAMES) {
      const definition: MethodDefinition = MethodTable[name];
      const required = ((definition.params as { required?: string[] }).required ?? []).includes("idempotencyKey");
      expect(required, name).toBe(definition.sideEffecting);
    }
    expect(METHOD_NAMES.filter((name) => MethodTable[name].sideEffecting).sort()).toEqual(
      [...SIDE_EFFECTING_METHODS].sort(),
    );
  });

  it("validates params before any handler and names the failing field", () => {
    const missing = validateParams("send", { message: "hi", idempotencyKey: "k" });
    expect(missing.ok).toBe(false);
    expect(!missing.ok && describeIssues(missing.issues)).toMatch(/^params\/to: /);
    const wrongType = validateParams("logs.tail", { limit: "ten" });
    expect(!wrongType.ok && wrongType.issues[0]?.path).toBe("/limit");
    expect(validateParams("health", undefined).ok).toBe(true);
    expect(validateParams("health", { unknownField: 1 }).ok).toBe(true);
  });

  it("reports the real field inside a union, not just 'Expected union value'", () => {
    const result = validateParams("cron.update", { id: "job-1", patch: { schedule: { kind: "every", everyMs: 0 } } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues[0]?.path).toBe("/patch/schedule/everyMs");
  });

  it("refuses cron kinds we do not run", () => {
    const base = { name: "n", sessionTarget: "main", wakeMode: "now", schedule: { kind: "every", everyMs: 1000 } };
    expect(validateParams("cron.add", { ...base, payload: { kind: "systemEvent", text: "hi" } }).ok).toBe(true);
    expect(validateParams("cron.add", { ...base, payload: { kind: "command", argv: ["rm", "-rf", "/"] } }).ok).toBe(
      false,
    );
  });

  it("resolves dynamic scopes from the params", () => {
    expect(requiredScope("health", {})).toBe("operator.read");
    expect(requiredScope("agent", { message: "hi", idempotencyKey: "k" })).toBe("operator.write");
    expect(requiredScope("agent", { message: "hi", idempotencyKey: "k", extraSystemPrompt: "x" })).toBe(
      "operator.admin",
    );
    expect(requiredScope("node.event", {})).toBe("node");
    expect(isMethodName("health")).toBe(true);
    expect(isMethodName("toString")).toBe(false);
  });

  it("implies read from write and everything from admin", () => {
    expect(hasScope(["operator.write"], "operator.read")).toBe(true);
    expect(hasScope(["operator.read"], "operator.write")).toBe(false);
    expect(hasScope(["operator.admin"], "operator.pairing")).toBe(true);
    expect(hasScope(["operator.pairing"], "operator.admin")).toBe(false);
    expect(hasScope([], "operator.read")).toBe(false);
  });
});

describe("event table", () => {
  it("compiles every payload and names an audience", () => {
    for (const name of EVENT_NAMES) {
      expect(() => compiledChecker(EventTable[name].payload), name).not.toThrow();
      expect(["all", "operator.read", "operator.pairing", "addressed"]).toContain(EventTable[name].audience);
    }
  });
});

describe("generated JSON Schema", () => {
  const schema = buildProtocolJsonSchema() as {
    methods: Record<string, { scope: string; params: { $ref?: string }; result: { $ref?: string } }>;
    events: Record<string, { payload: { $ref?: string } }>;
    definitions: Record<string, unknown>;
  };

  it("lists every method with its scope and refers to named definitions", () => {
    expect(Object.keys(schema.methods)).toEqual(METHOD_NAMES);
    expect(schema.methods.send).toMatchObject({
      scope: "operator.write",
      params: { $ref: "#/definitions/SendParams" },
    });
    for (const [name, method] of Object.entries(schema.methods)) {
      for (const part of [method.params, method.result]) {
        if (part.$ref) expect(schema.definitions[part.$ref.replace("#/definitions/", "")], name).toBeDefined();
      }
    }
  });

  it("lists every event with its payload", () => {
    expect(Object.keys(schema.events)).toEqual(EVENT_NAMES);
    expect(schema.events.tick?.payload.$ref).toBe("#/definitions/TickEvent");
  });
});
