import { describe, expect, it } from "vitest";
import { markdownToMrkdwn, SLACK_TEXT_LIMIT, slackTextToPlain, toSlackMessages } from "../src/index.js";

describe("markdown → mrkdwn", () => {
  it("converts bold, italic, strike, code, links, lists and headings", () => {
    expect(markdownToMrkdwn("**bold** and *italic* and _also_ and ~~gone~~")).toBe(
      "*bold* and _italic_ and _also_ and ~gone~",
    );
    expect(markdownToMrkdwn("see [the docs](https://example.com/a?b=1&c=2) now")).toBe(
      "see <https://example.com/a?b=1&c=2|the docs> now",
    );
    expect(markdownToMrkdwn("# Title\n- one\n  * two\n1. three\n> quoted")).toBe(
      "*Title*\n• one\n  • two\n1. three\n> quoted",
    );
    expect(markdownToMrkdwn("`a **b** <c>` snake_case_name")).toBe("`a **b** &lt;c&gt;` snake_case_name");
  });

  it("escapes &, < and > everywhere and keeps code blocks without their language", () => {
    expect(markdownToMrkdwn("a < b & c > d")).toBe("a &lt; b &amp; c &gt; d");
    expect(markdownToMrkdwn("```ts\nif (a < b && **c**) {}\n```\nafter")).toBe(
      "```\nif (a &lt; b &amp;&amp; **c**) {}\n```\nafter",
    );
  });

  it("splits long text into messages of at most 4,000 characters, never inside a code block", () => {
    const code = Array.from({ length: 60 }, (_, index) => `const line${index} = ${index};`).join("\n");
    const prose = Array.from({ length: 700 }, (_, index) => `word${index}`).join(" ");
    const markdown = `${prose}\n\n\`\`\`js\n${code}\n\`\`\`\n\n${prose}`;
    const messages = toSlackMessages(markdown);
    expect(messages.length).toBeGreaterThanOrEqual(3);
    for (const message of messages) {
      expect(message.length).toBeLessThanOrEqual(SLACK_TEXT_LIMIT);
      expect((message.match(/^```$/gm) ?? []).length % 2).toBe(0);
    }
    const block = messages.find((message) => message.includes("const line0"))!;
    expect(block).toContain("const line59 = 59;");
    expect(
      messages
        .join(" ")
        .split(/\s+/)
        .filter((word) => word.startsWith("word")),
    ).toHaveLength(1400);
  });

  it("a piece that grows past the limit when escaped is split again", () => {
    const messages = toSlackMessages("&".repeat(3_900));
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) expect(message.length).toBeLessThanOrEqual(SLACK_TEXT_LIMIT);
    expect(messages.join("").replaceAll("&amp;", "&")).toBe("&".repeat(3_900));
  });
});

describe("Slack text → plain text", () => {
  it("resolves mentions, channels, specials and links, and unescapes", () => {
    const names = (id: string) => ({ U1: "Ada Lovelace" })[id];
    expect(
      slackTextToPlain(
        "<@U1> and <@U2> in <#C1|general>, <!here>: <https://x.test|the page> <https://y.test> a &lt; b &amp;&amp; c &gt; d",
        names,
      ),
    ).toBe("@Ada Lovelace and @U2 in #general, @here: the page (https://x.test) https://y.test a < b && c > d");
  });
});
