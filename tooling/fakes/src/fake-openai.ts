import { createServer, type IncomingMessage, type Server } from "node:http";

/** One scripted answer of the fake: text (streamed in chunks), an HTTP error, or silence (to test timeouts). */
export type FakeReply =
  | {
      kind: "text";
      chunks: string[];
      chunkDelayMs?: number;
      usage?: { prompt_tokens: number; completion_tokens: number };
    }
  | { kind: "error"; status: number; body?: string }
  /** The model calls tools (arguments streamed in two pieces); the next request carries their results. */
  | { kind: "tool_calls"; calls: Array<{ id: string; name: string; arguments: Record<string, unknown> }> };

/** A recorded request. */
export interface FakeRequest {
  headers: IncomingMessage["headers"];
  body: {
    model?: string;
    stream?: boolean;
    messages?: Array<
      { role: string; content: string | Array<{ type: string; text?: string }> | null } & Record<string, unknown>
    >;
    tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  } & Record<string, unknown>;
}

/** The fake and its controls. */
export interface FakeOpenAI {
  /** `http://127.0.0.1:<port>/v1` */
  readonly baseUrl: string;
  /** Every request received, in order. */
  readonly requests: FakeRequest[];
  /** Queue the next answers; when the queue is empty the fake echoes the last user message. */
  script(...replies: FakeReply[]): void;
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible `/v1/chat/completions` on 127.0.0.1 (port 0): SSE streaming (`data: {choices:[{delta}]}` …
 * `data: [DONE]`) or a JSON answer, a usage chunk, scripted HTTP errors and slow chunks, and a log of every request.
 */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: FakeRequest[] = [];
  const queue: FakeReply[] = [];
  const server: Server = createServer(async (request, response) => {
    if (request.method === "GET" && request.url === "/v1/models") {
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model" }] }));
      return;
    }
    if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
      response.writeHead(404).end();
      return;
    }
    let raw = "";
    for await (const chunk of request) raw += chunk;
    const body = JSON.parse(raw || "{}") as FakeRequest["body"];
    requests.push({ headers: request.headers, body });
    const lastUser = contentText(
      [...(body.messages ?? [])].reverse().find((message) => message.role === "user")?.content ?? "",
    );
    const reply: FakeReply = queue.shift() ?? { kind: "text", chunks: lastUser.split(/(?<=\s)/) };
    if (reply.kind === "error") {
      response
        .writeHead(reply.status, { "content-type": "application/json" })
        .end(reply.body ?? JSON.stringify({ error: { message: "fake failure" } }));
      return;
    }
    const id = `chatcmpl-${requests.length}`;
    /** A non-streamed answer. */
    const sendCompletion = (message: Record<string, unknown>, finish: string, usage: unknown) =>
      response.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id,
          object: "chat.completion",
          choices: [{ index: 0, message, finish_reason: finish }],
          usage,
        }),
      );
    if (reply.kind === "tool_calls") {
      const toolCalls = reply.calls.map((call, index) => ({
        index,
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: JSON.stringify(call.arguments) },
      }));
      if (!body.stream) {
        sendCompletion(
          { role: "assistant", content: null, tool_calls: toolCalls.map(({ index: _, ...call }) => call) },
          "tool_calls",
          { prompt_tokens: 1, completion_tokens: 1 },
        );
        return;
      }
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const chunk = (delta: unknown, finish: string | null = null) =>
        response.write(
          `data: ${JSON.stringify({ id, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
        );
      for (const call of toolCalls) {
        const args = call.function.arguments;
        const half = Math.floor(args.length / 2);
        chunk({
          role: "assistant",
          tool_calls: [
            {
              index: call.index,
              id: call.id,
              type: "function",
              function: { name: call.function.name, arguments: args.slice(0, half) },
            },
          ],
        });
        chunk({ tool_calls: [{ index: call.index, function: { arguments: args.slice(half) } }] });
      }
      chunk({}, "tool_calls");
      response.write(
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } })}\n\n`,
      );
      response.end("data: [DONE]\n\n");
      return;
    }
    if (!body.stream) {
      sendCompletion(
        { role: "assistant", content: reply.chunks.join("") },
        "stop",
        reply.usage ?? { prompt_tokens: 1, completion_tokens: reply.chunks.length },
      );
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    let closed = false;
    request.on("close", () => {
      closed = true;
    });
    const send = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
    for (const text of reply.chunks) {
      if (reply.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, reply.chunkDelayMs));
      if (closed) return;
      send({
        id,
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta: { content: text }, finish_reason: null }],
      });
    }
    send({ id, object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
    send({
      id,
      object: "chat.completion.chunk",
      choices: [],
      usage: reply.usage ?? { prompt_tokens: 1, completion_tokens: reply.chunks.length },
    });
    response.end("data: [DONE]\n\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...replies) => {
      queue.push(...replies);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The text of a message's content, whether a string or an array of parts. */
export function contentText(content: string | Array<{ type: string; text?: string }> | null): string {
  if (typeof content === "string") return content;
  return (content ?? []).map((part) => part.text ?? "").join("");
}
