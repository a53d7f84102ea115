// Edits of a JSON5 config text that keep everything else as the user wrote it: comments, blank lines, quotes,
// trailing commas and key order. Only the span of the value that changes is rewritten (or one member inserted or
// removed), so `config set`, `config unset`, `config patch` and the API never turn a commented file into bare JSON.
import JSON5 from "json5";
import { isObject } from "./read-config-file.js";

/** A JSON5 text could not be edited (it does not parse, or a path runs through a non-object the edit cannot keep). */
export class Json5EditError extends Error {
  override readonly name = "Json5EditError";
}

interface Token {
  kind: "punct" | "string" | "word";
  text: string;
  start: number;
  end: number;
}

interface Member {
  key: string;
  /** Where the member starts (its key) and where its value ends. */
  start: number;
  valueStart: number;
  valueEnd: number;
  value: Node;
  /** The comma after the value, when there is one. */
  comma?: number;
}

type Node =
  | { kind: "object"; start: number; end: number; members: Member[] }
  | { kind: "array"; start: number; end: number }
  | { kind: "scalar"; start: number; end: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (/\s/.test(char) || char === "\uFEFF") {
      index++;
    } else if (char === "/" && text[index + 1] === "/") {
      while (index < text.length && text[index] !== "\n") index++;
    } else if (char === "/" && text[index + 1] === "*") {
      const close = text.indexOf("*/", index + 2);
      if (close < 0) throw new Json5EditError("unterminated comment");
      index = close + 2;
    } else if (char === '"' || char === "'") {
      const start = index++;
      while (index < text.length && text[index] !== char) index += text[index] === "\\" ? 2 : 1;
      if (index >= text.length) throw new Json5EditError("unterminated string");
      index++;
      tokens.push({ kind: "string", text: text.slice(start, index), start, end: index });
    } else if ("{}[]:,".includes(char)) {
      tokens.push({ kind: "punct", text: char, start: index, end: index + 1 });
      index++;
    } else {
      const start = index;
      while (index < text.length && !/[\s{}[\]:,"'/]/.test(text[index]!)) index++;
      if (index === start) throw new Json5EditError(`unexpected "${char}" at offset ${index}`);
      tokens.push({ kind: "word", text: text.slice(start, index), start, end: index });
    }
  }
  return tokens;
}

function parseTree(text: string): Node {
  const tokens = tokenize(text);
  let position = 0;
  const next = () => {
    const token = tokens[position++];
    if (!token) throw new Json5EditError("unexpected end of the text");
    return token;
  };
  const peek = () => tokens[position];
  const value = (): Node => {
    const token = next();
    if (token.text === "{" && token.kind === "punct") {
      const members: Member[] = [];
      while (peek()?.text !== "}") {
        const keyToken = next();
        const key = keyToken.kind === "string" ? (JSON5.parse(keyToken.text) as string) : keyToken.text;
        if (next().text !== ":") throw new Json5EditError(`expected ":" after ${keyToken.text}`);
        const child = value();
        const member: Member = {
          key,
          start: keyToken.start,
          valueStart: child.start,
          valueEnd: child.end,
          value: child,
        };
        if (peek()?.text === ",") member.comma = next().start;
        else if (peek()?.text !== "}") throw new Json5EditError(`expected "," or "}" after ${keyToken.text}`);
        members.push(member);
      }
      return { kind: "object", start: token.start, end: next().end, members };
    }
    if (token.text === "[" && token.kind === "punct") {
      let depth = 1;
      let last = token;
      while (depth > 0) {
        last = next();
        if (last.kind !== "punct") continue;
        if (last.text === "[" || last.text === "{") depth++;
        if (last.text === "]" || last.text === "}") depth--;
      }
      return { kind: "array", start: token.start, end: last.end };
    }
    if (token.kind === "punct") throw new Json5EditError(`unexpected "${token.text}"`);
    // A signed number is one word; `- 1` is not valid JSON5 anyway.
    return { kind: "scalar", start: token.start, end: token.end };
  };
  const root = value();
  if (position !== tokens.length) throw new Json5EditError("text after the end of the config");
  return root;
}

/** The indentation of the line that `offset` is on. */
function lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

function formatKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
}

/** A value as JSON5 in the file's own quote style, nested lines indented under `indent`. */
function formatValue(value: unknown, indent: string, quote: '"' | "'"): string {
  return JSON5.stringify(value, { space: 2, quote }).replace(/\n/g, `\n${indent}`);
}

function quoteStyle(text: string): '"' | "'" {
  const double = (text.match(/"/g) ?? []).length;
  const single = (text.match(/'/g) ?? []).length;
  return single > double ? "'" : '"';
}

/** `{ a: { b: value } }` for the path `["a", "b"]`. */
function nest(path: readonly string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

function insertMember(text: string, object: Node & { kind: "object" }, key: string, value: unknown): string {
  const quote = quoteStyle(text);
  const last = object.members.at(-1);
  if (!last) {
    // `{}` or `{\n}`: put the member on its own line when the braces are on different lines.
    const inner = text.slice(object.start + 1, object.end - 1);
    const closeIndent = lineIndent(text, object.end - 1);
    if (!inner.includes("\n")) {
      return `${text.slice(0, object.start)}{ ${formatKey(key)}: ${formatValue(value, closeIndent, quote)} }${text.slice(object.end)}`;
    }
    const indent = `${closeIndent}  `;
    const member = `${indent}${formatKey(key)}: ${formatValue(value, indent, quote)},\n`;
    const closeLineStart = text.lastIndexOf("\n", object.end - 1) + 1;
    return text.slice(0, closeLineStart) + member + text.slice(closeLineStart);
  }
  const indent = lineIndent(text, last.start);
  const sameLine = !text.slice(object.start, object.end).includes("\n");
  const member = `${formatKey(key)}: ${formatValue(value, indent, quote)}`;
  if (last.comma !== undefined) {
    // The file uses trailing commas: keep doing so.
    const at = last.comma + 1;
    const insert = sameLine ? ` ${member},` : `\n${indent}${member},`;
    return text.slice(0, at) + insert + text.slice(at);
  }
  const at = last.valueEnd;
  const insert = sameLine ? `, ${member}` : `,\n${indent}${member}`;
  return text.slice(0, at) + insert + text.slice(at);
}

function removeMember(text: string, object: Node & { kind: "object" }, index: number): string {
  const member = object.members[index]!;
  const previous = object.members[index - 1];
  let start = member.start;
  let end = member.comma !== undefined ? member.comma + 1 : member.valueEnd;
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  const onOwnLine = text.slice(lineStart, start).trim() === "";
  if (onOwnLine) {
    // Take the whole line, so no blank line is left behind.
    start = lineStart;
    // A comment after the member on its line is about the member: it goes too.
    end += /^[ \t]*(\/\/[^\n]*)?\r?\n?/.exec(text.slice(end))![0].length;
  } else {
    end += /^[ \t]*/.exec(text.slice(end))![0].length;
  }
  let result = text.slice(0, start) + text.slice(end);
  // The last member without a trailing comma: the comma before it now dangles before "}" (fine in JSON5 only when the
  // file already had trailing commas; otherwise remove it).
  if (member.comma === undefined && previous?.comma !== undefined)
    result = result.slice(0, previous.comma) + result.slice(previous.comma + 1);
  return result;
}

/** Find the object holding `path`'s last key, creating nothing; undefined when a step is missing. */
function walk(root: Node, path: readonly string[]): Node | undefined {
  let node: Node | undefined = root;
  for (const key of path) {
    if (node?.kind !== "object") return undefined;
    node = node.members.findLast((member) => member.key === key)?.value;
  }
  return node;
}

/**
 * Set `path` to `value` in a JSON5 text, changing only that value's span (or inserting the member, and any missing
 * parent objects, before the closing brace in the file's indentation). `value` undefined removes the member. An
 * empty text counts as `{}`.
 */
export function editJson5(text: string, path: readonly string[], value: unknown): string {
  if (path.length === 0) throw new Json5EditError("the path is empty");
  const source = text.trim() === "" ? "{}\n" : text;
  let root: Node;
  try {
    root = parseTree(source);
    JSON5.parse(source);
  } catch (error) {
    throw new Json5EditError(`the config is not valid JSON5 (${(error as Error).message}); fix it first`);
  }
  if (root.kind !== "object") throw new Json5EditError("the config is not an object");
  // The deepest existing object along the path.
  let object = root;
  let depth = 0;
  for (; depth < path.length - 1; depth++) {
    const child = object.members.findLast((member) => member.key === path[depth])?.value;
    if (child?.kind !== "object") break;
    object = child;
  }
  const key = path[depth]!;
  const index = object.members.findLastIndex((member) => member.key === key);
  const member = object.members[index];
  if (value === undefined) {
    if (depth < path.length - 1 || !member) return source; // nothing to remove
    return removeMember(source, object, index);
  }
  const rest = path.slice(depth + 1);
  const wanted = rest.length > 0 ? nest(rest, value) : value;
  if (member) {
    const indent = lineIndent(source, member.start);
    return (
      source.slice(0, member.valueStart) +
      formatValue(wanted, indent, quoteStyle(source)) +
      source.slice(member.valueEnd)
    );
  }
  return insertMember(source, object, key, wanted);
}

/** Read the value at `path` in a JSON5 text (undefined when absent). */
export function readJson5Path(text: string, path: readonly string[]): unknown {
  const root = parseTree(text);
  const node = walk(root, path);
  return node ? JSON5.parse(text.slice(node.start, node.end)) : undefined;
}

/**
 * Apply an RFC 7396 merge patch to a JSON5 text as a series of minimal edits (objects merge, `null` removes,
 * anything else replaces), so comments and layout outside the changed values survive.
 */
export function patchJson5(text: string, patch: unknown): string {
  if (!isObject(patch)) throw new Json5EditError("a merge patch of the config must be an object");
  let result = text;
  const apply = (prefix: string[], value: Record<string, unknown>, current: unknown) => {
    for (const [key, child] of Object.entries(value)) {
      const path = [...prefix, key];
      const existing = isObject(current) ? current[key] : undefined;
      if (child === null) result = editJson5(result, path, undefined);
      else if (isObject(child) && isObject(existing)) apply(path, child, existing);
      else result = editJson5(result, path, stripNulls(child));
    }
  };
  apply([], patch, text.trim() === "" ? {} : JSON5.parse(text));
  return result;
}

/** A merge patch's value for a member that did not exist: `null` inside it means nothing. */
function stripNulls(value: unknown): unknown {
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, child]) => child !== null)
      .map(([key, child]) => [key, stripNulls(child)]),
  );
}
