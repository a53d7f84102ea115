import { expect, it } from "vitest";
import { randomId } from "./random-id.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

it("is a v4 UUID, also where crypto.randomUUID is missing (a page on plain HTTP from a LAN address)", () => {
  expect(randomId()).toMatch(UUID);
  Object.defineProperty(globalThis.crypto, "randomUUID", { value: undefined, configurable: true });
  try {
    const ids = new Set(Array.from({ length: 100 }, () => randomId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(UUID);
  } finally {
    delete (globalThis.crypto as { randomUUID?: unknown }).randomUUID;
  }
  expect(typeof globalThis.crypto.randomUUID).toBe("function");
});
