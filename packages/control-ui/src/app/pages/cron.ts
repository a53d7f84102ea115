// Automations: the cron jobs (add, edit, run now, enable/disable, remove, run history) and the heartbeat.
import type { CronJob, CronRunLogEntry, CronSchedule, LastHeartbeatResult } from "@gateway/protocol";
import { errorText, formatDuration, formatTime, h, replace, tableHead } from "../dom.js";
import { toast } from "../shell.js";
import { jobForm } from "./cron-form.js";
import type { Page, PageContext, PageDefinition } from "./page.js";

function describeSchedule(job: CronJob): string {
  const schedule = job.schedule as CronSchedule;
  if (schedule.kind === "at") return `once at ${formatTime(Date.parse(schedule.at))}`;
  if (schedule.kind === "every") return `every ${formatDuration(schedule.everyMs)}`;
  return `cron ${schedule.expr}${schedule.tz ? ` (${schedule.tz})` : ""}`;
}

function create({ connection }: PageContext): Page {
  const { client } = connection;
  const list = h("div", { class: "card" }, h("p", {}, "Loading…"));
  const history = h("div", { class: "card", hidden: true });
  const editor = h("div", { hidden: true });
  const heartbeat = h("div", { class: "card" });
  let jobs: CronJob[] = [];

  const act = async (label: string, action: () => Promise<unknown>) => {
    try {
      await action();
      toast(label);
    } catch (error) {
      toast(`${label} failed: ${errorText(error)}`, "error");
    }
    await refresh();
  };

  const showRuns = async (job: CronJob) => {
    history.hidden = false;
    replace(history, h("h2", {}, `Runs of ${job.name}`), h("p", {}, "Loading…"));
    try {
      const { entries } = await client.request("cron.runs", { id: job.id, limit: 20 });
      replace(
        history,
        h("h2", {}, `Runs of ${job.name}`),
        entries.length === 0
          ? h("p", {}, "It has not run yet.")
          : h(
              "ul",
              { class: "runs" },
              entries.map((entry: CronRunLogEntry) =>
                h(
                  "li",
                  {},
                  `${formatTime(entry.ts)} — ${entry.status ?? "?"}${entry.error ? `: ${entry.error}` : ""}${entry.summary ? ` — ${entry.summary}` : ""}`,
                ),
              ),
            ),
      );
    } catch (error) {
      replace(history, h("p", { class: "error" }, errorText(error)));
    }
  };

  const closeEditor = () => {
    editor.hidden = true;
    replace(editor);
  };
  const edit = (job: CronJob) => {
    editor.hidden = false;
    replace(
      editor,
      jobForm({
        job,
        onCancel: closeEditor,
        onSubmit: async (values) => {
          const kind = (job.payload as { kind: string }).kind;
          await client.request("cron.update", {
            id: job.id,
            patch: {
              name: values.name,
              schedule: values.schedule,
              enabled: values.enabled,
              payload:
                kind === "agentTurn" ? { kind, message: values.text } : { kind: "systemEvent", text: values.text },
            },
          });
          toast(`${values.name} saved`);
          closeEditor();
          await refresh();
        },
      }),
    );
    editor.querySelector("input")?.focus();
  };

  const render = () => {
    replace(
      list,
      h("h2", {}, "Jobs"),
      jobs.length === 0
        ? h("p", {}, "No jobs yet.")
        : h(
            "table",
            { class: "jobs" },
            tableHead("Name", "Schedule", "Next run", "Last run", "Enabled", ""),
            h(
              "tbody",
              {},
              jobs.map((job) =>
                h(
                  "tr",
                  { "data-job": job.name },
                  h("td", {}, job.name),
                  h("td", {}, describeSchedule(job)),
                  h("td", {}, formatTime(job.state.nextRunAtMs)),
                  h(
                    "td",
                    {},
                    job.state.lastRunAtMs
                      ? `${formatTime(job.state.lastRunAtMs)} (${job.state.lastRunStatus ?? job.state.lastStatus ?? "?"})`
                      : "never",
                  ),
                  h(
                    "td",
                    {},
                    h("input", {
                      type: "checkbox",
                      checked: job.enabled,
                      "aria-label": `${job.name} enabled`,
                      onchange: (event: Event) =>
                        void act(
                          `${job.name} ${(event.target as HTMLInputElement).checked ? "enabled" : "disabled"}`,
                          () =>
                            client.request("cron.update", {
                              id: job.id,
                              patch: { enabled: (event.target as HTMLInputElement).checked },
                            }),
                        ),
                    }),
                  ),
                  h(
                    "td",
                    { class: "actions" },
                    h(
                      "button",
                      {
                        type: "button",
                        onclick: () =>
                          void act(`${job.name} ran`, () => client.request("cron.run", { id: job.id, mode: "force" })),
                      },
                      "Run now",
                    ),
                    h("button", { type: "button", onclick: () => edit(job) }, "Edit"),
                    h("button", { type: "button", class: "link", onclick: () => void showRuns(job) }, "History"),
                    h(
                      "button",
                      {
                        type: "button",
                        class: "link danger",
                        onclick: () => {
                          if (confirm(`Remove the job ${job.name}?`))
                            void act(`${job.name} removed`, () => client.request("cron.remove", { id: job.id }));
                        },
                      },
                      "Remove",
                    ),
                  ),
                ),
              ),
            ),
          ),
    );
  };

  const renderHeartbeat = (last: LastHeartbeatResult | undefined, problem?: string) => {
    replace(
      heartbeat,
      h("h2", {}, "Heartbeat"),
      problem ? h("p", { class: "error" }, problem) : null,
      h(
        "p",
        {},
        last
          ? `Last: ${formatTime(last.ts)} — ${last.status}${last.reason ? ` (${last.reason})` : ""}`
          : "No heartbeat yet.",
      ),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            onclick: () => void act("Heartbeats on", () => client.request("set-heartbeats", { enabled: true })),
          },
          "Turn on",
        ),
        h(
          "button",
          {
            type: "button",
            onclick: () => void act("Heartbeats off", () => client.request("set-heartbeats", { enabled: false })),
          },
          "Turn off",
        ),
      ),
    );
  };

  const refresh = async () => {
    try {
      jobs = (await client.request("cron.list", { includeDisabled: true })).jobs;
      render();
    } catch (error) {
      replace(list, h("h2", {}, "Jobs"), h("p", { class: "error" }, `Could not list the jobs: ${errorText(error)}`));
    }
    try {
      renderHeartbeat(await client.request("last-heartbeat"));
    } catch (error) {
      renderHeartbeat(undefined, errorText(error));
    }
  };

  const element = h(
    "section",
    { "aria-labelledby": "cron-title" },
    h("h1", { id: "cron-title" }, "Automations"),
    h(
      "div",
      { class: "stack" },
      list,
      editor,
      history,
      jobForm({
        onSubmit: async (values) => {
          const job = await client.request("cron.add", {
            name: values.name,
            schedule: values.schedule,
            sessionTarget: "main",
            wakeMode: "now",
            payload: { kind: "systemEvent", text: values.text },
          });
          toast(`${job.name} added`);
          await refresh();
        },
      }),
      heartbeat,
    ),
  );
  const stop = client.on("cron", () => void refresh());
  void refresh();
  return { element, refresh, dispose: stop };
}

export const cronPage: PageDefinition = { id: "cron", title: "Automations", create };
