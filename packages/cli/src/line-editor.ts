// The interactive prompt of `gateway chat`: Node's readline in terminal mode (arrow keys, Home/End, Ctrl-A/E/U/W,
// history with Up/Down) plus what it lacks: history kept in a file, Ctrl-R reverse search, and bracketed paste so a
// pasted block of several lines is one message.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createInterface, emitKeypressEvents, type Interface } from "node:readline";

/** Options of a line editor. */
export interface LineEditorOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where history is kept, one entry per line (newest last). */
  historyFile?: string;
  /** @default 1000 */
  historySize?: number;
  prompt?: string;
}

interface Key {
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
  sequence?: string;
}

const PASTE_ON = "\x1b[?2004h";
const PASTE_OFF = "\x1b[?2004l";

/** History entries may hold newlines (pasted messages); they are stored escaped, one per line. */
const encode = (entry: string) => entry.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const decode = (line: string) => line.replace(/\\(\\|n)/g, (_, char: string) => (char === "n" ? "\n" : "\\"));

/** A line editor: `next()` resolves with each entered message, or undefined at Ctrl-D. */
export class LineEditor {
  readonly #rl: Interface;
  readonly #options: LineEditorOptions;
  readonly #queue: Array<string | undefined> = [];
  #waiting: ((line: string | undefined) => void) | undefined;
  #pasting = false;
  #pasted: string[] = [];
  #search: { query: string; saved: string; skip: number; match: string } | undefined;
  #onInterrupt: (() => void) | undefined;
  #closed = false;
  readonly #onKeypress = (text: string | undefined, key: Key | undefined) => this.#keypress(text, key);

  constructor(options: LineEditorOptions) {
    this.#options = options;
    const history = options.historyFile ? loadHistory(options.historyFile, options.historySize ?? 1000) : [];
    emitKeypressEvents(options.input);
    this.#rl = createInterface({
      input: options.input,
      output: options.output,
      terminal: true,
      history,
      historySize: options.historySize ?? 1000,
      removeHistoryDuplicates: true,
      prompt: options.prompt ?? "› ",
    });
    // Our keypress listener runs first, so a search or a paste can take keys before readline sees them.
    options.input.prependListener("keypress", this.#onKeypress);
    this.#rl.on("line", (line) => this.#line(line));
    this.#rl.on("close", () => {
      this.#closed = true;
      this.#deliver(undefined);
    });
    this.#rl.on("SIGINT", () => {
      if (this.#onInterrupt) this.#onInterrupt();
      else if (this.#rl.line) this.#clearLine();
      else options.output.write("\n(Ctrl-D or /quit leaves)\n");
      this.prompt();
    });
    options.output.write(PASTE_ON);
  }

  /** What Ctrl-C does while a reply streams (abort it); undefined: clear the line. */
  set onInterrupt(handler: (() => void) | undefined) {
    this.#onInterrupt = handler;
  }

  /** Show the prompt again, with anything typed meanwhile. */
  prompt(): void {
    if (!this.#closed) this.#rl.prompt(true);
  }

  /** The next message, or undefined when the input ended (Ctrl-D). */
  next(): Promise<string | undefined> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#options.output.write(PASTE_OFF);
    this.#options.input.off("keypress", this.#onKeypress);
    this.#rl.close();
  }

  #deliver(line: string | undefined): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(line);
    else this.#queue.push(line);
  }

  #line(line: string): void {
    if (this.#pasting) {
      // A newline inside a paste is part of the message, not Enter.
      this.#pasted.push(line);
      return;
    }
    const message = this.#pasted.length > 0 ? [...this.#pasted, line].join("\n") : line;
    this.#pasted = [];
    if (message.trim() && this.#options.historyFile) saveHistory(this.#options.historyFile, message);
    if (message.includes("\n")) {
      // readline keeps only the last line; history holds the whole message.
      const history = (this.#rl as unknown as { history: string[] }).history;
      history[0] = message;
    }
    this.#deliver(message);
  }

  #clearLine(): void {
    this.#rl.write(null, { ctrl: true, name: "e" });
    this.#rl.write(null, { ctrl: true, name: "u" });
  }

  #keypress(_text: string | undefined, key: Key | undefined): void {
    if (key?.name === "paste-start") {
      this.#pasting = true;
      return;
    }
    if (key?.name === "paste-end") {
      this.#pasting = false;
      if (this.#pasted.length > 0)
        this.#options.output.write(`\n(${this.#pasted.length + 1} lines pasted: Enter sends them as one message)\n`);
      this.prompt();
      return;
    }
    if (key?.ctrl && key.name === "r" && !this.#search) {
      this.#search = { query: "", saved: this.#rl.line, skip: 0, match: "" };
      this.#renderSearch();
      return;
    }
    if (this.#search) this.#searchKey(key);
  }

  /** Keys while searching: letters narrow, Ctrl-R finds older, Enter sends, Esc/Ctrl-G cancel, others accept. */
  #searchKey(key: Key | undefined): void {
    const search = this.#search!;
    if (!key) return;
    if (key.name === "return" || key.name === "enter") {
      // readline sends the line, which holds the match.
      this.#search = undefined;
      this.#rl.setPrompt(this.#options.prompt ?? "› ");
      return;
    }
    // readline sees the key after us; redraw from the search's state once it has.
    setImmediate(() => {
      if (key.ctrl && key.name === "r") search.skip++;
      else if (key.name === "escape" || (key.ctrl && key.name === "g")) {
        this.#search = undefined;
        this.#rl.setPrompt(this.#options.prompt ?? "› ");
        this.#replaceLine(search.saved);
        return;
      } else if (key.name === "backspace") {
        search.query = search.query.slice(0, -1);
        search.skip = 0;
      } else if (key.sequence && key.sequence.length === 1 && !key.ctrl && !key.meta && key.sequence >= " ") {
        search.query += key.sequence;
        search.skip = 0;
      } else {
        // Any other key (arrows, Ctrl-E) keeps the match and goes on editing it.
        this.#search = undefined;
        this.#rl.setPrompt(this.#options.prompt ?? "› ");
        this.#replaceLine(search.match);
        return;
      }
      this.#renderSearch();
    });
  }

  #renderSearch(): void {
    const search = this.#search!;
    const history = (this.#rl as unknown as { history: string[] }).history;
    const matches = search.query ? history.filter((entry) => entry.includes(search.query)) : [];
    search.skip = Math.min(search.skip, Math.max(0, matches.length - 1));
    search.match = matches[search.skip] ?? "";
    this.#rl.setPrompt(`(reverse-i-search)\`${search.query}': `);
    this.#replaceLine(search.match);
  }

  #replaceLine(text: string): void {
    this.#clearLine();
    this.#rl.write(text.replace(/\n/g, " "));
    this.#rl.prompt(true);
  }
}

function loadHistory(file: string, size: number): string[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean).map(decode);
  // readline wants the newest first.
  return lines.slice(-size).reverse();
}

function saveHistory(file: string, entry: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    if (!existsSync(file)) writeFileSync(file, "", { mode: 0o600 });
    appendFileSync(file, `${encode(entry)}\n`);
  } catch {
    // History is a convenience: a read-only state dir must not stop the chat.
  }
}
