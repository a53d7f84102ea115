// Markdown for chat replies, rendered straight to DOM nodes: text is only ever set as text, links only for
// http(s) and mailto, so a reply cannot inject markup or script whatever it contains.
import { h } from "./dom.js";

const INLINE =
  /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\n]+\*|_[^_\n]+_)|(\[[^\]\n]+\]\([^)\s]+\))|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/;

function safeHref(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

function link(label: string, url: string): Node {
  const href = safeHref(url);
  return href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, label) : document.createTextNode(label);
}

/** Inline markup: `code`, **bold**, *emphasis*, [links](https://…) and bare URLs. */
export function renderInline(text: string): Node[] {
  const nodes: Node[] = [];
  let rest = text;
  while (rest) {
    const match = INLINE.exec(rest);
    if (!match) {
      nodes.push(document.createTextNode(rest));
      break;
    }
    if (match.index > 0) nodes.push(document.createTextNode(rest.slice(0, match.index)));
    const [token] = match;
    if (match[1]) nodes.push(h("code", {}, token.slice(1, -1)));
    else if (match[2]) nodes.push(h("strong", {}, ...renderInline(token.slice(2, -2))));
    else if (match[3]) nodes.push(h("em", {}, ...renderInline(token.slice(1, -1))));
    else if (match[4]) {
      const [, label = "", url = ""] = /^\[([^\]]+)\]\(([^)]+)\)$/.exec(token) ?? [];
      nodes.push(link(label, url));
    } else nodes.push(link(token, token));
    rest = rest.slice(match.index + token.length);
  }
  return nodes;
}

/** Blocks: fenced code, headings, bullet and numbered lists, paragraphs with line breaks. */
export function renderMarkdown(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length === 0) return;
    const p = h("p");
    paragraph.forEach((line, index) => {
      if (index > 0) p.appendChild(h("br"));
      for (const node of renderInline(line)) p.appendChild(node);
    });
    fragment.appendChild(p);
    paragraph = [];
  };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const fence = /^```\s*([\w+-]*)\s*$/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      for (index++; index < lines.length && !/^```\s*$/.test(lines[index] ?? ""); index++)
        code.push(lines[index] ?? "");
      fragment.appendChild(h("pre", {}, h("code", fence[1] ? { "data-language": fence[1] } : {}, code.join("\n"))));
      continue;
    }
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      fragment.appendChild(h("p", { class: "heading" }, h("strong", {}, ...renderInline(heading[2] ?? ""))));
      continue;
    }
    const bullet = /^\s*([-*]|\d+[.)])\s+/.exec(line);
    if (bullet) {
      flush();
      const ordered = /\d/.test(bullet[1] ?? "");
      const list = h(ordered ? "ol" : "ul");
      while (index < lines.length) {
        const item = /^\s*([-*]|\d+[.)])\s+(.*)$/.exec(lines[index] ?? "");
        if (!item) break;
        list.appendChild(h("li", {}, ...renderInline(item[2] ?? "")));
        index++;
      }
      index--;
      fragment.appendChild(list);
      continue;
    }
    if (line.trim() === "") flush();
    else paragraph.push(line);
  }
  flush();
  return fragment;
}
