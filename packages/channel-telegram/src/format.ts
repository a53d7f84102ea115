// Markdown as models write it → the HTML subset Telegram renders (parse_mode "HTML"). Anything Telegram could refuse
// is escaped; the caller sends plain text when the result is too long or Telegram still refuses it.

const escapeHtml = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
const escapeAttribute = (text: string) => escapeHtml(text).replaceAll('"', "&quot;");

/** Inline markdown of one line (code spans already taken out): bold, italic, strike, links. */
function inline(text: string): string {
  return escapeHtml(text)
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, label: string, url: string) => {
      return `<a href="${escapeAttribute(url.replaceAll("&amp;", "&"))}">${label}</a>`;
    })
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, "<b>$1</b>")
    .replace(/(^|[^\w])__(?=\S)(.+?)(?<=\S)__(?!\w)/g, "$1<b>$2</b>")
    .replace(/(^|[^\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])/g, "$1<i>$2</i>")
    .replace(/(^|[^\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)/g, "$1<i>$2</i>")
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, "<s>$1</s>");
}

/** A line outside code blocks: headings become bold, inline code spans stay verbatim. */
function line(text: string): string {
  const heading = /^#{1,6}\s+(.*)$/.exec(text);
  const body = heading ? heading[1]! : text;
  const parts = body.split(/(`[^`\n]+`)/);
  const html = parts
    .map((part) =>
      part.startsWith("`") && part.endsWith("`") && part.length > 2
        ? `<code>${escapeHtml(part.slice(1, -1))}</code>`
        : inline(part),
    )
    .join("");
  return heading ? `<b>${html}</b>` : html;
}

/** Convert markdown to Telegram HTML: fenced code blocks → `<pre><code class="language-…">`, the rest line by line. */
export function markdownToTelegramHtml(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const fence = /^\s*```([\w+-]*)\s*$/.exec(lines[index]!);
    if (!fence) {
      out.push(line(lines[index]!));
      continue;
    }
    const code: string[] = [];
    let end = index + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) code.push(lines[end++]!);
    const language = fence[1] ? ` class="language-${escapeAttribute(fence[1])}"` : "";
    out.push(`<pre><code${language}>${escapeHtml(code.join("\n"))}</code></pre>`);
    index = end;
  }
  return out.join("\n");
}
