import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { AgentService } from "./agent-service.js";

/** An HTTP route as the gateway server takes it (structurally; this package does not depend on the server). */
export interface ChatCompletionsRoute {
  method: "GET" | "POST";
  url: string;
  handler(
    request: { headers: IncomingHttpHeaders; body: unknown; signal: AbortSignal },
    response: ServerResponse,
  ): Promise<void>;
}

/** Options of the OpenAI-compatible endpoint. */
export interface ChatCompletionsOptions {
  /** Read on every request, so the config switch applies without a restart. */
  enabled(): boolean;
}

/**
 * The header that names the session explicitly (else the `user` field: one session per user, kept; else an ephemeral
 * session for this request alone, discarded with its transcript once answered).
 */
export const SESSION_HEADER = "x-gateway-session-key";

interface RequestBody {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  user?: unknown;
}

/** An error in OpenAI's shape: `{error: {message, type, param, code}}`. */
function sendError(
  response: ServerResponse,
  status: number,
  message: string,
  type = "invalid_request_error",
  extra: { param?: string; code?: string } = {},
): void {
  response
    .writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify({ error: { message, type, param: extra.param ?? null, code: extra.code ?? null } }));
}

function messageText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((part) =>
        part && typeof part === "object" && (part as { type?: string }).type === "text"
          ? String((part as { text?: unknown }).text ?? "")
          : "",
      )
      .join("");
  return undefined;
}

/**
 * `POST /v1/chat/completions` and `GET /v1/models`, so any OpenAI client can talk to the agent. The last user message
 * is the input; the session is named by the `x-gateway-session-key` header or the `user` field (kept by the gateway,
 * so the client need not resend history), else each request gets a fresh session. Streaming (SSE) and not.
 */
export function chatCompletionsRoutes(agent: AgentService, options: ChatCompletionsOptions): ChatCompletionsRoute[] {
  const off = (response: ServerResponse) =>
    sendError(
      response,
      404,
      "The OpenAI-compatible endpoint is off: set gateway.http.endpoints.chatCompletions.enabled to true in the config.",
    );
  const modelId = agent.agentId;
  return [
    {
      method: "GET",
      url: "/v1/models",
      async handler(_request, response) {
        if (!options.enabled()) return off(response);
        response.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            object: "list",
            data: [{ id: modelId, object: "model", created: 0, owned_by: "gateway" }],
          }),
        );
      },
    },
    {
      method: "POST",
      url: "/v1/chat/completions",
      async handler(request, response) {
        if (!options.enabled()) return off(response);
        if (typeof request.body !== "object" || request.body === null || Array.isArray(request.body))
          return sendError(response, 400, "the body must be a JSON object with model and messages");
        const body = request.body as RequestBody;
        if (body.model !== undefined && body.model !== modelId)
          return sendError(
            response,
            404,
            `The model \`${String(body.model)}\` does not exist: this gateway serves "${modelId}" (GET /v1/models lists it).`,
            "invalid_request_error",
            { param: "model", code: "model_not_found" },
          );
        if (!Array.isArray(body.messages) || body.messages.length === 0)
          return sendError(response, 400, "messages must be a non-empty array", "invalid_request_error", {
            param: "messages",
          });
        const named = request.headers[SESSION_HEADER];
        const ephemeral = !(typeof named === "string" && named) && !(typeof body.user === "string" && body.user);
        const sessionKey =
          typeof named === "string" && named
            ? named
            : typeof body.user === "string" && body.user
              ? `agent:${agent.agentId}:openai-user:${body.user}`
              : `agent:${agent.agentId}:openai:${randomUUID()}`;
        // A request without `user` is one exchange: nothing of it stays behind (gone before the answer is sent).
        let discarded = !ephemeral;
        const discard = async () => {
          if (discarded) return;
          discarded = true;
          await agent.discardSession(sessionKey).catch(() => undefined);
        };
        try {
          await answer(request, response, body, sessionKey, discard);
        } finally {
          await discard();
        }
      },
    },
  ];

  async function answer(
    request: Parameters<ChatCompletionsRoute["handler"]>[0],
    response: ServerResponse,
    body: RequestBody,
    sessionKey: string,
    settled: () => Promise<void>,
  ): Promise<void> {
    const last = (body.messages as unknown[]).at(-1) as { role?: unknown; content?: unknown } | undefined;
    const input = last?.role === "user" ? messageText(last.content) : undefined;
    if (!input?.trim())
      return sendError(
        response,
        400,
        "the last message must be a user message with text content",
        "invalid_request_error",
        { param: "messages" },
      );
    const model = modelId;
    const created = Math.floor(Date.now() / 1000);
    const stream = body.stream === true;
    let id = "";
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      response.write(
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    let headerSent = false;
    const run = await agent.send(sessionKey, input, {
      mode: "followup",
      ...(stream
        ? {
            onEvent: (event) => {
              if (event.type === "text_delta" && headerSent) chunk({ content: event.text }, null);
            },
          }
        : {}),
    });
    id = `chatcmpl-${run.runId}`;
    const onClientGone = () => agent.lanes.abort(sessionKey, run.runId);
    request.signal.addEventListener("abort", onClientGone, { once: true });
    if (stream) {
      response.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-gateway-session-key": sessionKey,
      });
      headerSent = true;
      chunk({ role: "assistant", content: "" }, null);
    }
    const outcome = await run.done;
    await settled();
    request.signal.removeEventListener("abort", onClientGone);
    const finish = outcome.stopReason === "length" ? "length" : "stop";
    const usage = outcome.usage
      ? {
          prompt_tokens: outcome.usage.inputTokens,
          completion_tokens: outcome.usage.outputTokens,
          total_tokens: outcome.usage.inputTokens + outcome.usage.outputTokens,
        }
      : undefined;
    if (stream) {
      if (outcome.stopReason === "error" || outcome.stopReason === "aborted")
        response.write(
          `data: ${JSON.stringify({ error: { message: outcome.error ?? `the run ${outcome.stopReason === "aborted" ? "was aborted" : "failed"}`, type: "server_error" } })}\n\n`,
        );
      else chunk({}, finish);
      if (usage)
        response.write(
          `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n`,
        );
      response.end("data: [DONE]\n\n");
      return;
    }
    if (outcome.stopReason === "error" || outcome.stopReason === "aborted")
      return sendError(response, 502, outcome.error ?? `the run ${outcome.stopReason}`, "server_error");
    response.writeHead(200, { "content-type": "application/json", "x-gateway-session-key": sessionKey }).end(
      JSON.stringify({
        id,
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message: { role: "assistant", content: outcome.text }, finish_reason: finish }],
        ...(usage ? { usage } : {}),
      }),
    );
  }
}
