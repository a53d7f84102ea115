// Every run's outcome, seen from outside the backend: a model error is rewritten to name the provider, the URL and
// the fix (a bare "Connection error." told a user nothing), and each run is reported to an observer (the gateway logs
// errors, shows the last one in status/health, and counts runs, latency and tokens for /metrics).
import type { AgentRunEvent, AgentRuntime, StopReason, Usage } from "./runtime.js";

/** The model a backend talks to. */
export interface ModelTarget {
  /** The provider's name in `models.providers` (or `openai` for the environment's fallback). */
  provider: string;
  model: string;
  baseUrl: string;
}

/** One finished run, as an observer sees it. */
export interface RunObservation {
  backend: string;
  /** Set for backends that call a model (pi, openai). */
  model?: ModelTarget;
  outcome: StopReason;
  durationMs: number;
  /** The error as the user sees it (already naming provider, URL and fix for model errors). */
  error?: string;
  usage?: Usage;
  /** When the run ended. */
  at: number;
}

/** Called once per finished run; must not throw (a throwing observer is ignored). */
export type RunObserver = (observation: RunObservation) => void;

const isLoopback = (url: string) => /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:|\/|$)/.test(url);

/** What to do about a model error, from what the error says (the model libraries give no stable codes here). */
export function modelErrorFix(target: ModelTarget, error: string): string {
  const where = `models.providers.${target.provider}`;
  if (/\b(401|403)\b|unauthori[sz]ed|invalid api key|incorrect api key|authentication/i.test(error))
    return `the server refused the API key: check ${where}.apiKey${target.provider === "openai" ? " (or OPENAI_API_KEY)" : ""}`;
  if (/\b404\b|not found|does not exist|no such model|unknown model/i.test(error))
    return /:11434\b/.test(target.baseUrl)
      ? `Ollama does not have "${target.model}": ollama pull ${target.model} (or fix ${where}.models)`
      : `the server does not know "${target.model}" (or the URL path is wrong): check ${where}.models and ${where}.baseUrl (OpenAI-compatible servers end in /v1)`;
  if (/\b429\b|rate limit|quota/i.test(error))
    return "the provider is rate-limiting or the quota is used up: wait, or check the plan";
  if (/connect|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed|socket|network|timed? ?out|ETIMEDOUT/i.test(error)) {
    if (/:11434\b/.test(target.baseUrl))
      return "is Ollama running? start it with `ollama serve` (gateway doctor checks the endpoint)";
    return isLoopback(target.baseUrl)
      ? `nothing answers at ${target.baseUrl}: start the model server, or fix ${where}.baseUrl (gateway doctor checks it)`
      : `${target.baseUrl} cannot be reached from here: check the network and ${where}.baseUrl (gateway doctor checks it)`;
  }
  return `check ${where} (gateway doctor sends it a test request)`;
}

/** A model error as a user should read it: the provider, the URL, what the server said, and the fix. */
export function describeModelError(target: ModelTarget, error: string): string {
  return `model ${target.provider}/${target.model} at ${target.baseUrl} failed: ${error.replace(/\s+$/, "")} — ${modelErrorFix(target, error)}`;
}

/** Wrap a runtime so its model errors explain themselves and every run is reported to `observe`. */
export function observeRuntime(
  runtime: AgentRuntime,
  info: { backend: string; model?: ModelTarget },
  observe?: RunObserver,
): AgentRuntime {
  const report = (observation: RunObservation) => {
    try {
      observe?.(observation);
    } catch {
      // an observer's bug never breaks a run
    }
  };
  const wrapped: AgentRuntime = {
    name: runtime.name,
    capabilities: runtime.capabilities,
    async *run(sessionKey, input, options): AsyncIterable<AgentRunEvent> {
      const started = Date.now();
      for await (const event of runtime.run(sessionKey, input, options)) {
        if (event.type !== "run_end") {
          yield event;
          continue;
        }
        const error =
          event.stopReason === "error" && info.model
            ? describeModelError(info.model, event.error ?? "the run failed")
            : event.error;
        report({
          backend: info.backend,
          ...(info.model ? { model: info.model } : {}),
          outcome: event.stopReason,
          durationMs: Date.now() - started,
          ...(error ? { error } : {}),
          ...(event.usage ? { usage: event.usage } : {}),
          at: Date.now(),
        });
        yield error === event.error ? event : { ...event, ...(error ? { error } : {}) };
      }
    },
    dispose: () => runtime.dispose(),
  };
  if (runtime.steer) wrapped.steer = runtime.steer.bind(runtime);
  if (runtime.forget) wrapped.forget = runtime.forget.bind(runtime);
  return wrapped;
}
