// Markdown as models write it → WhatsApp's own formatting: *bold*, _italic_, ~strike~, `code` and ```monospace```
// blocks. Links become "label (url)" (WhatsApp shows bare URLs as links), headings bold, "* item" bullets "- item".

const BOLD = "\u0001";

/** Inline markdown of one line (code spans already taken out). */
function inline(text: string): string {
  return text
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, label: string, url: string) =>
      label === url ? url : `${label} (${url})`,
    )
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, `${BOLD}$1${BOLD}`)
    .replace(/(^|[^\w])__(?=\S)(.+?)(?<=\S)__(?!\w)/g, `$1${BOLD}$2${BOLD}`)
    .replace(/(^|[^\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])/g, "$1_$2_")
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, "~$1~")
    .replaceAll(BOLD, "*");
}

/** A line outside code blocks. */
function line(text: string): string {
  const heading = /^#{1,6}\s+(.*)$/.exec(text);
  const bullet = /^(\s*)[*+]\s+(.*)$/.exec(text);
  const body = heading ? heading[1]! : bullet ? bullet[2]! : text;
  const converted = body
    .split(/(`[^`\n]+`)/)
    .map((part) => (part.startsWith("`") && part.endsWith("`") && part.length > 2 ? part : inline(part)))
    .join("");
  if (heading) return `*${converted.replace(/^\*(.*)\*$/, "$1")}*`;
  if (bullet) return `${bullet[1]}- ${converted}`;
  return converted;
}

/** Convert markdown to WhatsApp formatting (fenced blocks stay monospace blocks, without their language). */
export function markdownToWhatsApp(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const fence = /^\s*```[\w+-]*\s*$/.exec(lines[index]!);
    if (!fence) {
      out.push(line(lines[index]!));
      continue;
    }
    const code: string[] = [];
    let end = index + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) code.push(lines[end++]!);
    out.push(`\`\`\`\n${code.join("\n")}\n\`\`\``);
    index = end;
  }
  return out.join("\n");
}
