// Markdown as models write it → Slack's mrkdwn, and Slack's message text → plain text for the agent.
import { chunkText } from "@gateway/plugin-sdk";

/** Slack's own limit is 40,000 characters, but it truncates long posts in the client: 4,000 reads well. */
export const SLACK_TEXT_LIMIT = 4000;

const escapeText = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
// Placeholders from the private-use area: they cannot occur in what a model writes.
const BOLD = "\uE000";
const LINK = "\uE001";

/** Inline markdown of a piece of text without code spans: links, bold, italic, strike. */
function inline(text: string): string {
  const links: string[] = [];
  const withoutLinks = text.replace(
    /\[([^\]\n]+)\]\(((?:https?|mailto):[^\s)]+)\)/g,
    (_, label: string, url: string) => {
      links.push(`<${url.replaceAll("|", "%7C").replaceAll(">", "%3E")}|${escapeText(label)}>`);
      return `${LINK}${links.length - 1}${LINK}`;
    },
  );
  return escapeText(withoutLinks)
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, `${BOLD}$1${BOLD}`)
    .replace(/(^|[^\w])__(?=\S)(.+?)(?<=\S)__(?!\w)/g, `$1${BOLD}$2${BOLD}`)
    .replace(/(^|[^\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])/g, "$1_$2_")
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, "~$1~")
    .replaceAll(BOLD, "*")
    .replace(/\uE001(\d+)\uE001/g, (_, index: string) => links[Number(index)]!);
}

/** One line outside code blocks: headings bold, bullets as •, quotes kept, code spans verbatim (escaped). */
function line(text: string): string {
  const heading = /^#{1,6}\s+(.*)$/.exec(text);
  if (heading) return `*${inlineWithCode(heading[1]!).replaceAll("*", "")}*`;
  const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(text);
  if (bullet) return `${bullet[1]}• ${inlineWithCode(bullet[2]!)}`;
  const quote = /^>\s?(.*)$/.exec(text);
  if (quote) return `> ${inlineWithCode(quote[1]!)}`;
  return inlineWithCode(text);
}

function inlineWithCode(text: string): string {
  return text
    .split(/(`[^`\n]+`)/)
    .map((part) => (part.length > 2 && part.startsWith("`") && part.endsWith("`") ? escapeText(part) : inline(part)))
    .join("");
}

/**
 * Convert markdown to Slack mrkdwn: **bold** → *bold*, *italic* or _italic_ → _italic_, ~~strike~~ → ~strike~,
 * [text](url) → <url|text>, bullets → •, headings → bold lines, fenced code blocks kept (without the language, which
 * Slack would show as text), and `&`, `<`, `>` escaped everywhere as Slack requires.
 */
export function markdownToMrkdwn(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const fence = /^\s*(```|~~~)[\w+#.-]*\s*$/.exec(lines[index]!);
    if (!fence) {
      out.push(line(lines[index]!));
      continue;
    }
    const code: string[] = [];
    let end = index + 1;
    while (end < lines.length && !lines[end]!.trim().startsWith(fence[1]!)) code.push(lines[end++]!);
    out.push("```", ...code.map(escapeText), "```");
    index = end;
  }
  return out.join("\n");
}

/**
 * Markdown → mrkdwn messages of at most `limit` characters, in order: split first (never inside a code block: a long
 * block becomes several closed blocks), converted after; a piece that grows past the limit when converted (escapes,
 * links) is split again smaller.
 */
export function toSlackMessages(markdown: string, limit = SLACK_TEXT_LIMIT): string[] {
  const split = (text: string, size: number): string[] =>
    chunkText(text, size).flatMap((piece) => {
      const converted = markdownToMrkdwn(piece);
      if (converted.length <= limit || size <= 64) return [converted];
      return split(piece, Math.max(64, Math.floor((size * limit) / converted.length) - 16));
    });
  return split(markdown, limit);
}

/** How the agent sees names in a message: a user id → display name lookup (undefined when unknown). */
export type NameLookup = (userId: string) => string | undefined;

/**
 * Slack's message text as plain text: `<@U1>` → `@name`, `<#C1|general>` → `#general`, `<!here>` → `@here`,
 * `<https://x|label>` → `label (https://x)`, and `&amp;`/`&lt;`/`&gt;` unescaped.
 */
export function slackTextToPlain(text: string, names: NameLookup): string {
  return text
    .replace(/<([^<>]+)>/g, (_, inner: string) => {
      const [target = "", label] = inner.split("|", 2);
      if (target.startsWith("@")) return `@${label ?? names(target.slice(1)) ?? target.slice(1)}`;
      if (target.startsWith("#")) return `#${label ?? target.slice(1)}`;
      if (target.startsWith("!subteam^")) return label ?? "@group";
      if (target.startsWith("!date^")) return label ?? "";
      if (target.startsWith("!")) return `@${target.slice(1)}`;
      if (target.startsWith("mailto:")) return label ?? target.slice(7);
      return label && label !== target ? `${label} (${target})` : target;
    })
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}
