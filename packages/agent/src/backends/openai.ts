import type { AgentRunEvent, AgentRuntime, StopReason, Usage } from "../runtime.js";

/** Options of the OpenAI-compatible backend (OpenAI, Ollama, vLLM, LiteLLM…). */
export interface OpenAIBackendOptions {
  /** `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` … */
  baseUrl: string;
  apiKey?: string;
  model: string;
  systemPrompt?: string;
  /** Messages of history sent with each turn. @default 40 */
  maxHistoryMessages?: number;
  fetch?: typeof fetch;
}

interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

interface Chunk {
  choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

/**
 * Any OpenAI-compatible `/v1/chat/completions` endpoint, streamed over SSE with `fetch` (no SDK). Keeps each session's
 * recent history in memory; an HTTP error or an unreachable endpoint is a run error with the reason, never a hang.
 */
export function createOpenAIBackend(options: OpenAIBackendOptions): AgentRuntime {
  const histories = new Map<string, ChatMessage[]>();
  const doFetch = options.fetch ?? fetch;
  const maxHistory = options.maxHistoryMessages ?? 40;
  const endpoint = `${options.baseUrl.replace(/\/$/, "")}/chat/completions`;

  return {
    name: "openai",
    capabilities: { streaming: true, tools: false, steer: false, images: false },
    async *run(sessionKey, input, { runId, signal }): AsyncIterable<AgentRunEvent> {
      yield { type: "run_start", runId };
      const history = histories.get(sessionKey) ?? [];
      const messages: ChatMessage[] = [
        ...(options.systemPrompt ? [{ role: "system" as const, content: options.systemPrompt }] : []),
        ...history,
        { role: "user", content: input },
      ];
      let text = "";
      const end = (stopReason: StopReason, extra: { error?: string; usage?: Usage } = {}): AgentRunEvent => ({
        type: "run_end",
        runId,
        stopReason,
        text,
        ...extra,
      });
      let response: Response;
      try {
        response = await doFetch(endpoint, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "text/event-stream",
            ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
          },
          body: JSON.stringify({
            model: options.model,
            messages,
            stream: true,
            stream_options: { include_usage: true },
          }),
          signal,
        });
      } catch (error) {
        yield signal.aborted
          ? end("aborted")
          : end("error", { error: `cannot reach ${endpoint}: ${(error as Error).message}` });
        return;
      }
      if (!response.ok || !response.body) {
        const body = (await response.text().catch(() => "")).slice(0, 300);
        let reason = body;
        try {
          reason = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? body;
        } catch {
          // not JSON: keep the text
        }
        yield end("error", { error: `${endpoint} answered ${response.status}${reason ? `: ${reason}` : ""}` });
        return;
      }
      let finish: string | undefined;
      let usage: Usage | undefined;
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(bytes, { stream: true });
          let boundary = buffer.indexOf("\n\n");
          while (boundary >= 0) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            boundary = buffer.indexOf("\n\n");
            for (const line of block.split("\n")) {
              if (!line.startsWith("data:")) continue;
              const data = line.slice(5).trim();
              if (data === "[DONE]") continue;
              const chunk = JSON.parse(data) as Chunk;
              const choice = chunk.choices?.[0];
              const delta = choice?.delta?.content;
              if (delta) {
                text += delta;
                yield { type: "text_delta", text: delta };
              }
              if (choice?.finish_reason) finish = choice.finish_reason;
              if (chunk.usage) {
                usage = {
                  inputTokens: chunk.usage.prompt_tokens ?? 0,
                  outputTokens: chunk.usage.completion_tokens ?? 0,
                };
              }
            }
          }
        }
      } catch (error) {
        yield signal.aborted
          ? end("aborted")
          : end("error", { error: `the stream broke: ${(error as Error).message}` });
        return;
      }
      if (signal.aborted) {
        yield end("aborted");
        return;
      }
      histories.set(
        sessionKey,
        [...history, { role: "user" as const, content: input }, { role: "assistant" as const, content: text }].slice(
          -maxHistory,
        ),
      );
      yield { type: "message_end", text };
      yield end(finish === "length" ? "length" : "stop", usage ? { usage } : {});
    },
    async dispose() {
      histories.clear();
    },
  };
}
