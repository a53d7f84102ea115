import { describe, expect, it } from "vitest";
import { messageText, shownMessage } from "./messages.js";

describe("transcript messages, in either shape", () => {
  it("reads text, a content string, or content blocks", () => {
    expect(messageText({ role: "assistant", text: "hi" })).toBe("hi");
    expect(messageText({ role: "assistant", content: "hi" })).toBe("hi");
    expect(
      messageText({
        role: "assistant",
        content: [{ type: "text", text: "a" }, { type: "image" }, { type: "text", text: "b" }],
      }),
    ).toBe("ab");
    expect(messageText(null)).toBe("");
  });

  it("shows tool calls as cards and skips what has nothing to show", () => {
    expect(shownMessage({ role: "assistant", content: [{ type: "toolCall", name: "read" }], timestamp: 5 })).toEqual({
      role: "assistant",
      text: "",
      ts: 5,
      tools: [{ name: "read", isError: false }],
    });
    expect(shownMessage({ role: "assistant", content: [] })).toBeUndefined();
    expect(shownMessage("nope")).toBeUndefined();
  });
});
