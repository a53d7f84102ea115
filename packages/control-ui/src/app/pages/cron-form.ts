// The cron job form, for adding a job and for editing one: a name, a schedule (every N minutes, a cron expression
// with its time zone, or once at a time), the message, and — when editing — whether it is enabled.
import type { CronJob, CronSchedule } from "@gateway/protocol";
import { errorText, h } from "../dom.js";

/** What the form gives back. */
export interface JobFormValues {
  name: string;
  schedule: CronSchedule;
  text: string;
  enabled: boolean;
}

/** Options of `jobForm`: without `job` it adds one, with it it edits that job. */
export interface JobFormOptions {
  job?: CronJob;
  onSubmit(values: JobFormValues): Promise<void>;
  onCancel?(): void;
}

function field(id: string, label: string, control: HTMLElement): HTMLElement {
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

/** A time as a datetime-local input shows it (the browser's zone, to the minute). */
function localInputValue(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** The job's message: a system event's text or an agent turn's message. */
export function jobText(job: CronJob): string {
  const payload = job.payload as { kind: string; text?: string; message?: string };
  return payload.kind === "agentTurn" ? (payload.message ?? "") : (payload.text ?? "");
}

/** The add (or edit) form. */
export function jobForm(options: JobFormOptions): HTMLFormElement {
  const { job } = options;
  const prefix = job ? "cron-edit" : "cron";
  const schedule = job?.schedule as CronSchedule | undefined;
  const name = h("input", { required: true, placeholder: "Morning summary", value: job?.name ?? "" });
  const kind = h(
    "select",
    {},
    h("option", { value: "every" }, "Every … minutes"),
    h("option", { value: "cron" }, "Cron expression"),
    h("option", { value: "at" }, "Once, at a time"),
  );
  kind.value = schedule?.kind ?? "every";
  const every = h("input", {
    type: "number",
    min: 1,
    value: schedule?.kind === "every" ? Math.round(schedule.everyMs / 60_000) : 60,
  });
  const expr = h("input", { placeholder: "0 8 * * *", value: schedule?.kind === "cron" ? schedule.expr : "" });
  const zone = h("input", {
    value: schedule?.kind === "cron" ? (schedule.tz ?? "") : Intl.DateTimeFormat().resolvedOptions().timeZone,
  });
  const at = h("input", { type: "datetime-local", value: schedule?.kind === "at" ? localInputValue(schedule.at) : "" });
  const isAgentTurn = (job?.payload as { kind?: string } | undefined)?.kind === "agentTurn";
  const text = h("textarea", {
    rows: 2,
    required: true,
    placeholder: "What the agent should be told",
    value: job ? jobText(job) : "",
  });
  const enabled = h("input", { type: "checkbox", checked: job?.enabled ?? true });
  const error = h("p", { class: "error", role: "alert" });
  const everyField = field(`${prefix}-every`, "Minutes", every);
  const exprField = field(`${prefix}-expr`, "Expression", expr);
  const zoneField = field(`${prefix}-tz`, "Time zone", zone);
  const atField = field(`${prefix}-at`, "At", at);
  const showKind = () => {
    everyField.hidden = kind.value !== "every";
    exprField.hidden = zoneField.hidden = kind.value !== "cron";
    atField.hidden = kind.value !== "at";
  };
  kind.addEventListener("change", showKind);
  showKind();
  const title = job ? `Edit ${job.name}` : "Add a job";
  return h(
    "form",
    {
      class: "card",
      "aria-label": title,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        error.textContent = "";
        if (!name.value.trim() || !text.value.trim()) {
          error.textContent = "A job needs a name and a message.";
          return;
        }
        const chosen: CronSchedule =
          kind.value === "every"
            ? { kind: "every", everyMs: Math.max(1, Number(every.value)) * 60_000 }
            : kind.value === "cron"
              ? { kind: "cron", expr: expr.value.trim(), ...(zone.value.trim() ? { tz: zone.value.trim() } : {}) }
              : { kind: "at", at: at.value ? new Date(at.value).toISOString() : "" };
        try {
          await options.onSubmit({
            name: name.value.trim(),
            schedule: chosen,
            text: text.value.trim(),
            enabled: enabled.checked,
          });
          if (!job) {
            name.value = "";
            text.value = "";
          }
        } catch (failure) {
          error.textContent = errorText(failure);
        }
      },
    },
    h("h2", {}, title),
    field(`${prefix}-name`, "Name", name),
    field(`${prefix}-kind`, "Schedule", kind),
    everyField,
    exprField,
    zoneField,
    atField,
    field(`${prefix}-text`, isAgentTurn ? "Message to the agent" : "Message to the main session", text),
    job ? field(`${prefix}-enabled`, "Enabled", enabled) : null,
    error,
    h(
      "div",
      { class: "actions" },
      h("button", { class: "primary", type: "submit" }, job ? "Save changes" : "Add job"),
      options.onCancel ? h("button", { type: "button", onclick: options.onCancel }, "Cancel") : null,
    ),
  );
}
