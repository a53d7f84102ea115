import { describe, expect, it } from "vitest";
import { markdownToTelegramHtml } from "../src/format.js";

describe("markdownToTelegramHtml", () => {
  it("renders what models write: bold, italic, strike, code, links, headings, fenced blocks", () => {
    expect(markdownToTelegramHtml("**bold** and *italic* and _also_ and ~~gone~~")).toBe(
      "<b>bold</b> and <i>italic</i> and <i>also</i> and <s>gone</s>",
    );
    expect(markdownToTelegramHtml("# Plan\nrun `npm test` then [docs](https://example.com/a?b=1&c=2)")).toBe(
      '<b>Plan</b>\nrun <code>npm test</code> then <a href="https://example.com/a?b=1&amp;c=2">docs</a>',
    );
    expect(markdownToTelegramHtml("```ts\nconst a = b < c && d > e;\n**not bold**\n```\nafter")).toBe(
      '<pre><code class="language-ts">const a = b &lt; c &amp;&amp; d &gt; e;\n**not bold**</code></pre>\nafter',
    );
  });

  it("escapes what Telegram would refuse and leaves plain text, paths and arithmetic alone", () => {
    expect(markdownToTelegramHtml("a < b & c > d")).toBe("a &lt; b &amp; c &gt; d");
    expect(markdownToTelegramHtml("/tmp/file_name_here.txt and snake_case_words")).toBe(
      "/tmp/file_name_here.txt and snake_case_words",
    );
    expect(markdownToTelegramHtml("2 * 3 * 4 = 24")).toBe("2 * 3 * 4 = 24");
    expect(markdownToTelegramHtml("`<b>` is a tag")).toBe("<code>&lt;b&gt;</code> is a tag");
    expect(markdownToTelegramHtml("```\nunclosed <fence>")).toBe("<pre><code>unclosed &lt;fence&gt;</code></pre>");
  });
});
