import type { AgentRunEvent, AgentRuntime, AgentTool, StopReason, Usage } from "../runtime.js";

/** Options of the OpenAI-compatible backend (OpenAI, Ollama, vLLM, LiteLLM…). */
export interface OpenAIBackendOptions {
  /** `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` … */
  baseUrl: string;
  apiKey?: string;
  model: string;
  systemPrompt?: string;
  /** Messages of history sent with each turn. @default 40 */
  maxHistoryMessages?: number;
  /** Model calls in one run when the model keeps calling tools. @default 8 */
  maxToolRounds?: number;
  fetch?: typeof fetch;
}

type ChatMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: ToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

interface Chunk {
  choices?: Array<{
    delta?: {
      content?: string | null;
      tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }>;
    };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

/** What one model call produced. */
type Round =
  | { kind: "ok"; text: string; toolCalls: ToolCall[]; finish: string | undefined; usage: Usage | undefined }
  | { kind: "failed"; error: string };

/**
 * Any OpenAI-compatible `/v1/chat/completions` endpoint, streamed over SSE with `fetch` (no SDK), with tool calls run
 * in a loop until the model answers. A session's conversation comes from the gateway's transcript (after a restart
 * too) and is kept in memory while the gateway runs; an HTTP error or an unreachable endpoint is a run error with the
 * reason, never a hang.
 */
export function createOpenAIBackend(options: OpenAIBackendOptions): AgentRuntime {
  const histories = new Map<string, ChatMessage[]>();
  const doFetch = options.fetch ?? fetch;
  const maxHistory = options.maxHistoryMessages ?? 40;
  const maxToolRounds = options.maxToolRounds ?? 8;
  const endpoint = `${options.baseUrl.replace(/\/$/, "")}/chat/completions`;

  async function* callModel(
    messages: ChatMessage[],
    tools: readonly AgentTool[],
    signal: AbortSignal,
  ): AsyncGenerator<AgentRunEvent, Round> {
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
          ...(tools.length > 0
            ? {
                tools: tools.map((tool) => ({
                  type: "function",
                  function: { name: tool.name, description: tool.description, parameters: tool.parameters },
                })),
              }
            : {}),
        }),
        signal,
      });
    } catch (error) {
      return { kind: "failed", error: `cannot reach ${endpoint}: ${(error as Error).message}` };
    }
    if (!response.ok || !response.body) {
      const body = (await response.text().catch(() => "")).slice(0, 300);
      let reason = body;
      try {
        reason = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? body;
      } catch {
        // not JSON: keep the text
      }
      return { kind: "failed", error: `${endpoint} answered ${response.status}${reason ? `: ${reason}` : ""}` };
    }
    let text = "";
    let finish: string | undefined;
    let usage: Usage | undefined;
    const calls: ToolCall[] = [];
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
            for (const piece of choice?.delta?.tool_calls ?? []) {
              let call = calls[piece.index];
              if (!call) {
                call = { id: "", type: "function", function: { name: "", arguments: "" } };
                calls[piece.index] = call;
              }
              if (piece.id) call.id = piece.id;
              if (piece.function?.name) call.function.name += piece.function.name;
              if (piece.function?.arguments) call.function.arguments += piece.function.arguments;
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
      return { kind: "failed", error: `the stream broke: ${(error as Error).message}` };
    }
    return { kind: "ok", text, toolCalls: calls.filter(Boolean), finish, usage };
  }

  async function runTool(
    call: ToolCall,
    tools: readonly AgentTool[],
    sessionKey: string,
    signal: AbortSignal,
  ): Promise<{ output: string; isError: boolean; input: unknown }> {
    const tool = tools.find((candidate) => candidate.name === call.function.name);
    let args: Record<string, unknown>;
    try {
      args = call.function.arguments ? (JSON.parse(call.function.arguments) as Record<string, unknown>) : {};
    } catch {
      return {
        output: `invalid JSON arguments: ${call.function.arguments}`,
        isError: true,
        input: call.function.arguments,
      };
    }
    if (!tool) return { output: `no tool named "${call.function.name}"`, isError: true, input: args };
    try {
      return { output: await tool.execute(args, { sessionKey, signal }), isError: false, input: args };
    } catch (error) {
      return { output: `error: ${(error as Error).message}`, isError: true, input: args };
    }
  }

  return {
    name: "openai",
    capabilities: { streaming: true, tools: true, steer: false, images: false },
    async *run(sessionKey, input, { runId, signal, tools = [], history }): AsyncIterable<AgentRunEvent> {
      yield { type: "run_start", runId };
      let earlier = histories.get(sessionKey);
      if (!earlier) {
        const fromTranscript = (await history?.().catch(() => [])) ?? [];
        earlier = fromTranscript.map((message) => ({ role: message.role, content: message.text }));
      }
      const turn: ChatMessage[] = [{ role: "user", content: input }];
      let text = "";
      let usage: Usage | undefined;
      const end = (stopReason: StopReason, error?: string): AgentRunEvent => ({
        type: "run_end",
        runId,
        stopReason,
        text,
        ...(error ? { error } : {}),
        ...(usage ? { usage } : {}),
      });
      for (let round = 0; ; round++) {
        const messages: ChatMessage[] = [
          ...(options.systemPrompt ? [{ role: "system" as const, content: options.systemPrompt }] : []),
          ...earlier.slice(-maxHistory),
          ...turn,
        ];
        const result = yield* callModel(messages, round < maxToolRounds ? tools : [], signal);
        if (signal.aborted) {
          yield end("aborted");
          return;
        }
        if (result.kind === "failed") {
          yield end("error", result.error);
          return;
        }
        text += result.text;
        if (result.usage) {
          usage = {
            inputTokens: (usage?.inputTokens ?? 0) + result.usage.inputTokens,
            outputTokens: (usage?.outputTokens ?? 0) + result.usage.outputTokens,
          };
        }
        if (result.toolCalls.length === 0) {
          // Kept: the question and the answer (tool steps stay in the transcript, not in the model's context).
          histories.set(
            sessionKey,
            [
              ...earlier,
              { role: "user" as const, content: input },
              { role: "assistant" as const, content: text },
            ].slice(-maxHistory),
          );
          yield { type: "message_end", text };
          yield end(result.finish === "length" ? "length" : "stop");
          return;
        }
        turn.push({ role: "assistant", content: result.text || null, tool_calls: result.toolCalls });
        for (const call of result.toolCalls) {
          const name = call.function.name;
          yield { type: "tool_start", toolCallId: call.id, name, input: call.function.arguments };
          const outcome = await runTool(call, tools, sessionKey, signal);
          yield { type: "tool_end", toolCallId: call.id, name, output: outcome.output, isError: outcome.isError };
          turn.push({ role: "tool", tool_call_id: call.id, content: outcome.output });
        }
        if (signal.aborted) {
          yield end("aborted");
          return;
        }
      }
    },
    async forget(sessionKey) {
      histories.delete(sessionKey);
    },
    async dispose() {
      histories.clear();
    },
  };
}
