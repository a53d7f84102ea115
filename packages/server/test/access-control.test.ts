import type { InboundMessage } from "@gateway/plugin-sdk";
import { describe, expect, it } from "vitest";
import { decideAccess } from "../src/index.js";

const message = (overrides: Partial<InboundMessage> = {}): InboundMessage => ({
  channel: "memory",
  accountId: "default",
  chatType: "group",
  peer: "-1",
  sender: { id: "7", name: "Ada", username: "ada" },
  text: "hello",
  wasMentioned: true,
  messageId: "1",
  timestamp: 1,
  ...overrides,
});
const never = () => false;

describe("decideAccess", () => {
  it("per-group sender allowlists override groupAllowFrom; a disabled group is dropped", () => {
    const config = {
      groups: { "-1": { allowFrom: ["@ada"] }, "-2": {}, "-3": { enabled: false } },
      groupAllowFrom: ["99"],
    };
    expect(decideAccess(message(), config, never).action).toBe("process");
    expect(decideAccess(message({ sender: { id: "8" } }), config, never).action).toBe("drop");
    expect(decideAccess(message({ peer: "-2" }), config, never).action).toBe("drop"); // not in groupAllowFrom
    expect(decideAccess(message({ peer: "-2", sender: { id: "99" } }), config, never).action).toBe("process");
    expect(decideAccess(message({ peer: "-3" }), config, never)).toMatchObject({ action: "drop" });
  });

  it("groupPolicy open takes any group, disabled none; requireMention false answers everything", () => {
    expect(decideAccess(message({ peer: "-9" }), { groupPolicy: "open" }, never).action).toBe("process");
    expect(decideAccess(message(), { groupPolicy: "disabled", groups: { "*": {} } }, never).action).toBe("drop");
    const quiet = message({ wasMentioned: false });
    expect(decideAccess(quiet, { groupPolicy: "open" }, never).action).toBe("context");
    expect(decideAccess(quiet, { groupPolicy: "open", requireMention: false }, never).action).toBe("process");
    expect(decideAccess(quiet, { groups: { "*": { requireMention: false } } }, never).action).toBe("process");
  });

  it("direct messages: approved by pairing counts as allowed under allowlist and pairing", () => {
    const direct = message({ chatType: "direct", peer: "7", wasMentioned: false });
    expect(decideAccess(direct, {}, never).action).toBe("pair");
    expect(decideAccess(direct, {}, () => true).action).toBe("process");
    expect(decideAccess(direct, { dmPolicy: "allowlist" }, never).action).toBe("drop");
    expect(decideAccess(direct, { dmPolicy: "allowlist" }, () => true).action).toBe("process");
    expect(decideAccess(direct, { dmPolicy: "disabled", allowFrom: ["7"] }, never).action).toBe("drop");
  });

  it("a sender's aliases count as its id: an allowlisted or paired phone number admits the person arriving by LID", () => {
    const byLid = message({
      chatType: "direct",
      peer: "111122223333@lid",
      wasMentioned: false,
      sender: {
        id: "111122223333@lid",
        name: "Ada",
        aliases: ["+15551234567", "15551234567@s.whatsapp.net"],
      } as InboundMessage["sender"],
    });
    expect(decideAccess(byLid, { dmPolicy: "allowlist", allowFrom: ["+15551234567"] }, never).action).toBe("process");
    expect(decideAccess(byLid, { dmPolicy: "allowlist", allowFrom: ["+15550000000"] }, never).action).toBe("drop");
    expect(decideAccess(byLid, {}, (id) => id === "15551234567@s.whatsapp.net").action).toBe("process");
    expect(decideAccess(byLid, {}, never).action).toBe("pair");
    const inGroup = { ...byLid, chatType: "group" as const, peer: "g1", wasMentioned: true };
    expect(decideAccess(inGroup, { groups: { g1: { allowFrom: ["+15551234567"] } } }, never).action).toBe("process");
    // Only strings count: a malformed alias list is ignored, not trusted.
    const odd = message({
      chatType: "direct",
      sender: { id: "9", aliases: [42, null] } as unknown as InboundMessage["sender"],
    });
    expect(decideAccess(odd, { dmPolicy: "allowlist", allowFrom: ["42"] }, never).action).toBe("drop");
  });
});
