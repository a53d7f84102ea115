import { describe, expect, it } from "vitest";
import { PluginSurfaces } from "./plugin-surfaces.js";

describe("PluginSurfaces", () => {
  const surfaces = new PluginSurfaces();
  surfaces.register("canvas", ({ host }) => `http://${host ?? "127.0.0.1"}:18793`);
  surfaces.register("down", () => undefined);

  it("gives operators every running surface, and nodes only those in their caps", () => {
    expect(surfaces.urlsFor({ host: "gw.lan" })).toEqual({ canvas: "http://gw.lan:18793" });
    expect(surfaces.urlsFor({ host: undefined }, ["canvas", "camera"])).toEqual({ canvas: "http://127.0.0.1:18793" });
    expect(surfaces.urlsFor({ host: undefined }, ["camera"])).toBeUndefined();
  });

  it("refuses a surface registered twice", () => {
    expect(() => surfaces.register("canvas", () => undefined)).toThrow('"canvas" is registered already');
  });
});
