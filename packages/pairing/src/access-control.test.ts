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
});
