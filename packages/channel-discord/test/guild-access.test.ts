import { describe, expect, it } from "vitest";
import { guildAccess } from "../src/index.js";

const facts = { guildId: "1", channelId: "10", userId: "100", username: "Ada", roleIds: ["500"] };

describe("guildAccess", () => {
  it("no guilds configured: everything passes (the gateway's groupPolicy decides)", () => {
    expect(guildAccess(undefined, facts)).toEqual({ allowed: true });
  });

  it("listed guilds, '*', disabled guilds and channels", () => {
    expect(guildAccess({ "2": {} }, facts)).toMatchObject({ allowed: false, reason: expect.stringMatching(/guild 1/) });
    expect(guildAccess({ "*": {} }, facts)).toEqual({ allowed: true });
    expect(guildAccess({ "1": { enabled: false }, "*": {} }, facts)).toMatchObject({ allowed: false });
    expect(guildAccess({ "1": { channels: { "11": {} } } }, facts)).toMatchObject({ allowed: false });
    expect(guildAccess({ "1": { channels: { "*": {} } } }, facts)).toEqual({ allowed: true });
    expect(guildAccess({ "1": { channels: { "10": { enabled: false }, "*": {} } } }, facts)).toMatchObject({
      allowed: false,
    });
  });

  it("users by id or name (any case, with or without @), roles by id; a channel's lists replace the guild's", () => {
    expect(guildAccess({ "1": { users: ["100"] } }, facts)).toEqual({ allowed: true });
    expect(guildAccess({ "1": { users: ["@ada"] } }, facts)).toEqual({ allowed: true });
    expect(guildAccess({ "1": { users: ["grace"] } }, facts)).toMatchObject({ allowed: false });
    expect(guildAccess({ "1": { roles: ["500"] } }, facts)).toEqual({ allowed: true });
    expect(guildAccess({ "1": { users: ["grace"], roles: ["500"] } }, facts)).toEqual({ allowed: true });
    expect(guildAccess({ "1": { users: ["grace"], channels: { "10": { roles: ["500"] } } } }, facts)).toEqual({
      allowed: true,
    });
    expect(guildAccess({ "1": { users: ["ada"], channels: { "10": { users: ["grace"] } } } }, facts)).toMatchObject({
      allowed: false,
    });
  });
});
