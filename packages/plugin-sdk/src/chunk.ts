const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;

/** Cut `text` at `limit` UTF-16 units without splitting a surrogate pair. */
function safeCut(text: string, limit: number): number {
  if (limit >= text.length) return text.length;
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/** The best place to end a chunk of `text` at most `limit` long: a paragraph, a line, a sentence, a space. */
function breakPoint(text: string, limit: number): number {
  if (text.length <= limit) return text.length;
  const window = text.slice(0, safeCut(text, limit));
  const floor = Math.floor(limit * 0.5);
  for (const pattern of ["\n\n", "\n", ". ", " "]) {
    const at = window.lastIndexOf(pattern);
    if (at >= floor) return at + pattern.length;
  }
  return window.length;
}

/**
 * Split text into chunks of at most `limit` characters for platforms with a message limit. Markdown-aware: breaks at
 * paragraphs, lines, sentences or spaces; never inside a fenced code block (a block longer than the limit is split
 * into several blocks, each closed and reopened with its fence and language); never inside a surrogate pair.
 */
export function chunkText(text: string, limit: number): string[] {
  if (limit < 16) throw new RangeError("chunkText: limit must be at least 16");
  if (text.length <= limit) return text ? [text] : [];
  // Segments: plain text, or a whole fenced block.
  const segments: Array<{ code: false; text: string } | { code: true; open: string; close: string; body: string }> = [];
  const lines = text.split("\n");
  let plain: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = FENCE.exec(lines[index]!);
    if (!fence) {
      plain.push(lines[index]!);
      continue;
    }
    const marker = fence[2]!;
    let end = index + 1;
    while (end < lines.length && !lines[end]!.trim().startsWith(marker)) end++;
    if (plain.length) segments.push({ code: false, text: plain.join("\n") });
    plain = [];
    segments.push({ code: true, open: lines[index]!, close: marker, body: lines.slice(index + 1, end).join("\n") });
    index = end;
  }
  if (plain.length) segments.push({ code: false, text: plain.join("\n") });

  const chunks: string[] = [];
  let current = "";
  const flush = () => {
    if (current.trim()) chunks.push(current.replace(/\s+$/, ""));
    current = "";
  };
  const add = (piece: string) => {
    const joined = current ? `${current}\n${piece}` : piece;
    if (joined.length <= limit) current = joined;
    else {
      flush();
      current = piece;
    }
  };
  for (const segment of segments) {
    if (!segment.code) {
      let rest = segment.text;
      while (rest.length > 0) {
        const room = current ? limit - current.length - 1 : limit;
        if (rest.length <= room) {
          add(rest);
          break;
        }
        if (room < limit * 0.25) {
          flush();
          continue;
        }
        const cut = breakPoint(rest, room);
        add(rest.slice(0, cut).replace(/\s+$/, ""));
        flush();
        rest = rest.slice(cut).replace(/^\n+/, "");
      }
      continue;
    }
    const whole = `${segment.open}\n${segment.body}\n${segment.close}`;
    if (whole.length <= limit) {
      add(whole);
      continue;
    }
    // A block longer than the limit: several blocks, each with the fence (and its language) around it.
    flush();
    const overhead = segment.open.length + segment.close.length + 2;
    let body = segment.body;
    while (body.length > 0) {
      const cut = body.length <= limit - overhead ? body.length : breakPoint(body, limit - overhead);
      chunks.push(`${segment.open}\n${body.slice(0, cut).replace(/\n$/, "")}\n${segment.close}`);
      body = body.slice(cut).replace(/^\n/, "");
    }
  }
  flush();
  return chunks;
}
