// Config: the running config as JSON5 (secrets redacted), saved as a merge patch of what the user changed, with the
// hash it was read at — a concurrent edit is shown as a conflict, never overwritten — and refused edits listed with
// the path of each problem. A secret left as "[redacted]" is not in the patch: the stored one stays.
import { GatewayClientError } from "@gateway/client";
import type { ConfigGetResult } from "@gateway/protocol";
import JSON5 from "json5";
import { errorText, h, replace } from "../dom.js";
import { mergePatch } from "../merge-patch.js";
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
    oninput: () => {
      dirty = editor.value !== shown;
      save.disabled = !dirty;
    },
  });
  const save = h("button", { class: "primary", type: "submit", disabled: true }, "Save and apply");
  const reload = h("button", { type: "button", onclick: () => void refresh(true) }, "Reload from the gateway");
  const result = h("div", { class: "config-result", role: "status", "aria-live": "polite" });
  const path = h("code");
  let loaded: ConfigGetResult | undefined;
  let shown = "";
  let dirty = false;

  const showIssues = (title: string, issues: Issue[], conflict = false) => {
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
      loaded = await client.request("config.get");
      path.textContent = loaded.path;
      shown = JSON.stringify(loaded.config ?? {}, null, 2);
      editor.value = shown;
      dirty = false;
      save.disabled = true;
      if (force) replace(result);
    } catch (error) {
      showIssues(`Could not read the config: ${errorText(error)}`, []);
    }
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!loaded || !editor.value.trim()) return;
    let edited: unknown;
    try {
      edited = JSON5.parse(editor.value);
    } catch (error) {
      showIssues(`Not saved: the text is not valid JSON5 (${errorText(error)})`, []);
      return;
    }
    const patch = mergePatch(loaded.config ?? {}, edited);
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
        " as JSON5. Secrets are shown redacted; leave a redacted value as it is to keep the stored secret.",
      ),
      h("label", { for: "config-editor", class: "visually-hidden" }, "Config (JSON5)"),
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
