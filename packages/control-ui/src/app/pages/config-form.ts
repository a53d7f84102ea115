// The config as a form, generated from `config.schema` (the JSON Schema of the whole config) and its UI hints: one
// collapsible section per top-level key, a labelled control for every plain setting (text, number, a choice, on/off)
// with its help and default, and the problems of a refused edit shown at the fields they are about. What the form
// cannot show (lists, maps of accounts) is edited in the JSON5 view.
import type { ConfigSchemaResponse } from "@gateway/protocol";

type ConfigUiHint = ConfigSchemaResponse["uiHints"][string];

import { h } from "../dom.js";

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
};

/** A problem of a refused edit: its dotted path and what is wrong. */
export interface FieldIssue {
  path: string;
  message: string;
  hint?: string;
}

const MAX_DEPTH = 4;

function choices(schema: Schema): unknown[] | undefined {
  if (schema.enum) return schema.enum;
  if (schema.anyOf?.length && schema.anyOf.every((branch) => "const" in branch))
    return schema.anyOf.map((branch) => branch.const);
  return undefined;
}

function kindOf(schema: Schema): "choice" | "boolean" | "number" | "string" | "object" | undefined {
  if (choices(schema)) return "choice";
  if (schema.type === "boolean") return "boolean";
  if (schema.type === "integer" || schema.type === "number") return "number";
  if (schema.type === "string") return "string";
  if (schema.type === "object" && schema.properties) return "object";
  return undefined;
}

function read(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Set (or, for undefined, delete) a value at a path, creating the objects on the way. */
function write(target: Record<string, unknown>, path: string[], value: unknown): void {
  let current = target;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete current[last];
  else current[last] = value;
}

const idOf = (path: string) => `config-field-${path.replace(/[^A-Za-z0-9]+/g, "-")}`;

/** A form over `value` (edited in place); `onChange` after every edit. */
export function configForm(
  schema: unknown,
  hints: Record<string, ConfigUiHint>,
  value: Record<string, unknown>,
  onChange: () => void,
): { element: HTMLElement; showIssues(issues: FieldIssue[]): void } {
  const field = (path: string[], node: Schema): HTMLElement => {
    const dotted = path.join(".");
    const hint = hints[dotted];
    const id = idOf(dotted);
    const current = read(value, path);
    const fallback = node.default === undefined ? "" : `default: ${JSON.stringify(node.default)}`;
    const help = hint?.help ?? node.description;
    const described = help ? `${id}-help` : undefined;
    const change = (next: unknown) => {
      write(value, path, next);
      onChange();
    };
    let control: HTMLElement;
    const kind = kindOf(node);
    if (kind === "choice" || kind === "boolean") {
      const options = kind === "boolean" ? [true, false] : (choices(node) ?? []);
      const select = h(
        "select",
        { id, "data-path": dotted, "aria-describedby": described },
        h("option", { value: "" }, fallback ? `(${fallback})` : "(not set)"),
        options.map((option) =>
          h("option", { value: JSON.stringify(option), selected: current === option }, String(option)),
        ),
      );
      select.addEventListener("change", () => change(select.value === "" ? undefined : JSON.parse(select.value)));
      control = select;
    } else {
      const input = h("input", {
        id,
        "data-path": dotted,
        type: kind === "number" ? "number" : hint?.sensitive ? "password" : "text",
        value: current === undefined ? "" : String(current),
        placeholder: hint?.placeholder ?? fallback,
        autocomplete: "off",
        "aria-describedby": described,
        ...(kind === "number" && node.minimum !== undefined ? { min: node.minimum } : {}),
        ...(kind === "number" && node.maximum !== undefined ? { max: node.maximum } : {}),
      });
      input.addEventListener("input", () => {
        const text = input.value;
        change(text === "" ? undefined : kind === "number" && Number.isFinite(Number(text)) ? Number(text) : text);
      });
      control = input;
    }
    return h(
      "div",
      { class: "field" },
      h("label", { for: id }, hint?.label ?? path[path.length - 1]),
      control,
      help ? h("small", { id: described, class: "muted" }, help) : null,
    );
  };

  const section = (path: string[], node: Schema, depth: number): HTMLElement[] => {
    const children: HTMLElement[] = [];
    const skipped: string[] = [];
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const kind = kindOf(child);
      if (kind === "object" && depth < MAX_DEPTH) {
        const inner = section([...path, key], child, depth + 1);
        if (inner.length) children.push(h("fieldset", {}, h("legend", {}, key), inner));
      } else if (kind && kind !== "object") children.push(field([...path, key], child));
      else skipped.push(key);
    }
    if (skipped.length) children.push(h("p", { class: "muted" }, `In the JSON5 view: ${skipped.join(", ")}.`));
    return children;
  };

  const root = schema as Schema;
  const element = h(
    "div",
    { class: "config-form" },
    Object.entries(root.properties ?? {}).map(([key, node]) => {
      const kind = kindOf(node);
      const inner =
        kind === "object"
          ? section([key], node, 1)
          : kind
            ? [field([key], node)]
            : [h("p", { class: "muted" }, "In the JSON5 view.")];
      return h("details", { "data-section": key }, h("summary", {}, key), h("div", { class: "stack" }, inner));
    }),
  );

  return {
    element,
    showIssues(issues) {
      for (const old of Array.from(element.querySelectorAll(".field-error"))) old.remove();
      for (const invalid of Array.from(element.querySelectorAll("[aria-invalid]")))
        invalid.removeAttribute("aria-invalid");
      for (const issue of issues) {
        const control = element.querySelector<HTMLElement>(`[data-path="${CSS.escape(issue.path)}"]`);
        if (!control) continue;
        control.setAttribute("aria-invalid", "true");
        const message = h(
          "p",
          { class: "field-error error", id: `${control.id}-error`, role: "alert" },
          `${issue.message}${issue.hint ? ` — ${issue.hint}` : ""}`,
        );
        control.setAttribute("aria-errormessage", message.id);
        control.insertAdjacentElement("afterend", message);
        for (let parent = control.parentElement; parent; parent = parent.parentElement)
          if (parent instanceof HTMLDetailsElement) parent.open = true;
      }
    },
  };
}
