import { describe, expect, it } from "vitest";
import { type AccessSubject, accessPolicy, decideAccess } from "./access-control.js";

const message = (overrides: Partial<AccessSubject> = {}): AccessSubject => ({
  chatType: "group",
  peer: "-1",
  sender: { id: "7", username: "ada" },
  text: "hello",
  wasMentioned: true,
  ...overrides,
});
const never = () => false;

describe("decideAccess", () => {
  it("per-group sender allowlists override groupAllowFrom; a disabled group is dropped", () => {
    const policy = accessPolicy({
      groups: { "-1": { allowFrom: ["@ada"] }, "-2": {}, "-3": { enabled: false } },
      groupAllowFrom: ["99"],
    });
    expect(decideAccess(message(), policy, never).action).toBe("process");
    expect(decideAccess(message({ sender: { id: "8" } }), policy, never).action).toBe("drop");
    expect(decideAccess(message({ peer: "-2" }), policy, never).action).toBe("drop"); // not in groupAllowFrom
    expect(decideAccess(message({ peer: "-2", sender: { id: "99" } }), policy, never).action).toBe("process");
    expect(decideAccess(message({ peer: "-3" }), policy, never)).toMatchObject({ action: "drop" });
  });

  it("groupPolicy open takes any group, disabled none; requireMention false answers everything", () => {
    expect(decideAccess(message({ peer: "-9" }), accessPolicy({ groupPolicy: "open" }), never).action).toBe("process");
    const disabled = accessPolicy({ groupPolicy: "disabled", groups: { "*": {} } });
    expect(decideAccess(message(), disabled, never).action).toBe("drop");
    const quiet = message({ wasMentioned: false });
    expect(decideAccess(quiet, accessPolicy({ groupPolicy: "open" }), never).action).toBe("context");
    const everything = accessPolicy({ groupPolicy: "open", requireMention: false });
    expect(decideAccess(quiet, everything, never).action).toBe("process");
    const perGroup = accessPolicy({ groups: { "*": { requireMention: false } } });
    expect(decideAccess(quiet, perGroup, never).action).toBe("process");
  });

  it("mention patterns (compiled once) count as a mention", () => {
    const policy = accessPolicy({ groupPolicy: "open", mentionPatterns: ["\\bhey bot\\b"] });
    expect(decideAccess(message({ wasMentioned: false, text: "Hey Bot, status?" }), policy, never).action).toBe(
      "process",
    );
    expect(decideAccess(message({ wasMentioned: false, text: "hey botany" }), policy, never).action).toBe("context");
    expect(() => accessPolicy({ mentionPatterns: ["("] })).toThrow(/Invalid regular expression/);
  });

  it("direct messages: approved by pairing counts as allowed under allowlist and pairing", () => {
    const direct = message({ chatType: "direct", peer: "7", wasMentioned: false });
    expect(decideAccess(direct, accessPolicy({}), never).action).toBe("pair");
    expect(decideAccess(direct, accessPolicy({}), () => true).action).toBe("process");
    expect(decideAccess(direct, accessPolicy({ dmPolicy: "allowlist" }), never).action).toBe("drop");
    expect(decideAccess(direct, accessPolicy({ dmPolicy: "allowlist" }), () => true).action).toBe("process");
    const disabled = accessPolicy({ dmPolicy: "disabled", allowFrom: ["7"] });
    expect(decideAccess(direct, disabled, never).action).toBe("drop");
  });

  it("a sender's aliases count as its id: an allowlisted or paired phone number admits the person arriving by LID", () => {
    const byLid = message({
      chatType: "direct",
      peer: "111122223333@lid",
      wasMentioned: false,
      sender: { id: "111122223333@lid", aliases: ["+15551234567", "15551234567@s.whatsapp.net"] },
    });
    const allowlisted = accessPolicy({ dmPolicy: "allowlist", allowFrom: ["+15551234567"] });
    expect(decideAccess(byLid, allowlisted, never).action).toBe("process");
    const other = accessPolicy({ dmPolicy: "allowlist", allowFrom: ["+15550000000"] });
    expect(decideAccess(byLid, other, never).action).toBe("drop");
    expect(decideAccess(byLid, accessPolicy({}), (id) => id === "15551234567@s.whatsapp.net").action).toBe("process");
    expect(decideAccess(byLid, accessPolicy({}), never).action).toBe("pair");
    const inGroup = { ...byLid, chatType: "group" as const, peer: "g1", wasMentioned: true };
    const groups = accessPolicy({ groups: { g1: { allowFrom: ["+15551234567"] } } });
    expect(decideAccess(inGroup, groups, never).action).toBe("process");
    // Only strings count: a malformed alias list is ignored, not trusted.
    const odd = message({ chatType: "direct", sender: { id: "9", aliases: [42, null] as unknown as string[] } });
    expect(decideAccess(odd, accessPolicy({ dmPolicy: "allowlist", allowFrom: ["42"] }), never).action).toBe("drop");
  });
});
