// A tiny DOM builder: elements are created with properties and children, text is always set as text (never parsed
// as HTML), so nothing a gateway or a message says can inject markup.

/** A child: an element, text, or nothing. */
export type Child = Node | string | number | false | null | undefined;

/** Attributes, `on<event>` listeners, and `class`/`text` shorthands. */
export type Props = Record<string, unknown>;

/** Create an element: `h("button", { class: "primary", onclick: send }, "Send")`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value as EventListener);
    } else if (key === "class") element.className = String(value);
    else if (key === "text") element.textContent = String(value);
    else if (key === "value" && "value" in element) (element as HTMLInputElement).value = String(value);
    else if (key === "checked" && "checked" in element) (element as HTMLInputElement).checked = Boolean(value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/** A table's header row: `tableHead("Device", "Asked", "")`. */
export function tableHead(...headers: string[]): HTMLTableSectionElement {
  return h("thead", {}, h("tr", {}, ...headers.map((header) => h("th", {}, header))));
}

/** Append children (flattened; falsy ones skipped). */
export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function replace(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A time as the user's locale shows it. */
export function formatTime(ms: number | undefined): string {
  if (!ms) return "—";
  return new Date(ms).toLocaleString();
}

/** A duration in words: 950 ms, 12 s, 3 min, 2 h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** The message of anything thrown. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
