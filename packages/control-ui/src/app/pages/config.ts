// Config: the running config (secrets redacted) as a form generated from its schema, or as JSON5; saved as a merge
// patch of what the user changed, with the hash it was read at — a concurrent edit is shown as a conflict, never
// overwritten — and refused edits listed with the path of each problem (and, in the form, at the field). A secret
// left as "[redacted]" is not in the patch: the stored one stays.
import { GatewayClientError } from "@gateway/client";
import type { ConfigGetResult, ConfigSchemaResponse } from "@gateway/protocol";
import JSON5 from "json5";
import { errorText, h, replace } from "../dom.js";
import { mergePatch } from "../merge-patch.js";
import { configForm } from "./config-form.js";
import type { Page, PageContext, PageDefinition } from "./page.js";

interface Issue {
  path: string;
  message: string;
  hint?: string;
}

function issuesOf(error: unknown): Issue[] {
  if (!GatewayClientError.isInstance(error)) return [];
  const issues = (error.details as { issues?: unknown } | undefined)?.issues;
  return Array.isArray(issues) ? (issues as Issue[]).filter((issue) => typeof issue?.message === "string") : [];
}

function create({ connection }: PageContext): Page {
  const { client } = connection;
  const editor = h("textarea", {
    id: "config-editor",
    class: "code-editor",
    spellcheck: "false",
    rows: 24,
    "aria-describedby": "config-help",
    oninput: () => edited(),
  });
  const editorLabel = h("label", { for: "config-editor", class: "visually-hidden" }, "Config (JSON5)");
  const save = h("button", { class: "primary", type: "submit", disabled: true }, "Save and apply");
  const reload = h("button", { type: "button", onclick: () => void refresh(true) }, "Reload from the gateway");
  const result = h("div", { class: "config-result", role: "status", "aria-live": "polite" });
  const path = h("code");
  const formHost = h("div", { id: "config-form" });
  const modeKey = "gateway.config.mode.v1";
  let mode: "form" | "json5" = localStorage.getItem(modeKey) === "json5" ? "json5" : "form";
  const formButton = h("button", { type: "button", onclick: () => switchTo("form") }, "Form");
  const textButton = h("button", { type: "button", onclick: () => switchTo("json5") }, "JSON5");
  let loaded: ConfigGetResult | undefined;
  let schema: ConfigSchemaResponse | undefined;
  let draft: Record<string, unknown> = {};
  let form: ReturnType<typeof configForm> | undefined;
  let dirty = false;

  const edited = () => {
    dirty = true;
    save.disabled = false;
  };
  const buildForm = () => {
    form = schema ? configForm(schema.schema, schema.uiHints, draft, edited) : undefined;
    replace(formHost, form?.element ?? h("p", { class: "muted" }, "Loading the schema…"));
  };
  const showMode = () => {
    formHost.hidden = mode !== "form";
    editorLabel.hidden = editor.hidden = mode !== "json5";
    formButton.setAttribute("aria-pressed", String(mode === "form"));
    textButton.setAttribute("aria-pressed", String(mode === "json5"));
  };
  const switchTo = (next: "form" | "json5") => {
    if (next === mode) return;
    if (next === "form") {
      try {
        draft = JSON5.parse(editor.value) as Record<string, unknown>;
      } catch (error) {
        showIssues(`Fix the JSON5 first: ${errorText(error)}`, []);
        return;
      }
      buildForm();
    } else editor.value = JSON.stringify(draft, null, 2);
    mode = next;
    localStorage.setItem(modeKey, mode);
    showMode();
  };

  const showIssues = (title: string, issues: Issue[], conflict = false) => {
    form?.showIssues(issues);
    replace(
      result,
      h(
        "div",
        { class: `alert ${conflict ? "warn" : "error"}`, role: "alert" },
        h("strong", {}, title),
        issues.length
          ? h(
              "ul",
              { class: "issues" },
              issues.map((issue) =>
                h(
                  "li",
                  {},
                  h("code", {}, issue.path || "(root)"),
                  `: ${issue.message}`,
                  issue.hint ? ` — ${issue.hint}` : "",
                ),
              ),
            )
          : null,
      ),
    );
  };

  const refresh = async (force = false) => {
    // A reconnect refreshes what is shown, never what the user is typing.
    if (dirty && !force) return;
    try {
      [loaded, schema] = await Promise.all([
        client.request("config.get"),
        schema ? Promise.resolve(schema) : client.request("config.schema"),
      ]);
      path.textContent = loaded.path;
      draft = structuredClone((loaded.config ?? {}) as Record<string, unknown>);
      editor.value = JSON.stringify(draft, null, 2);
      buildForm();
      dirty = false;
      save.disabled = true;
      if (force) replace(result);
    } catch (error) {
      showIssues(`Could not read the config: ${errorText(error)}`, []);
    }
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!loaded) return;
    let next: unknown = draft;
    if (mode === "json5") {
      try {
        next = JSON5.parse(editor.value);
      } catch (error) {
        showIssues(`Not saved: the text is not valid JSON5 (${errorText(error)})`, []);
        return;
      }
    }
    const patch = mergePatch(loaded.config ?? {}, next);
    if (patch === undefined) {
      replace(result, h("div", { class: "alert ok" }, "Nothing changed."));
      return;
    }
    save.disabled = true;
    try {
      const written = await client.request("config.patch", {
        raw: JSON.stringify(patch),
        ...(loaded.hash ? { baseHash: loaded.hash } : {}),
        note: "Control UI",
      });
      replace(
        result,
        h(
          "div",
          { class: "alert ok" },
          h("strong", {}, "Saved and applied. "),
          written.changedPaths.length ? `Changed: ${written.changedPaths.join(", ")}.` : "Nothing changed.",
          written.restartRequired ? " Some changes apply after a restart." : "",
        ),
      );
      dirty = false;
      await refresh(false);
    } catch (error) {
      save.disabled = false;
      const message = errorText(error);
      if (/changed since you read it/.test(message))
        showIssues(
          "Someone else changed the config since you loaded it. Your text is kept here: reload to see theirs, then apply your edit again.",
          [],
          true,
        );
      else showIssues(`Not saved: ${message}`, issuesOf(error));
    }
  };

  showMode();
  const element = h(
    "section",
    { "aria-labelledby": "config-title" },
    h("h1", { id: "config-title" }, "Config"),
    h(
      "form",
      { class: "card stack", onsubmit: submit, "aria-label": "Config file" },
      h(
        "p",
        { id: "config-help" },
        "The config file ",
        path,
        ". Secrets are shown redacted; leave a redacted value as it is to keep the stored secret.",
      ),
      h("div", { class: "actions", role: "group", "aria-label": "Edit as" }, formButton, textButton),
      formHost,
      editorLabel,
      editor,
      result,
      h("div", { class: "actions" }, save, reload),
    ),
  );
  const stop = client.on("config.changed", () => void refresh());
  void refresh(true);
  return { element, refresh: () => refresh(), dispose: stop };
}

export const configPage: PageDefinition = { id: "config", title: "Config", create };
