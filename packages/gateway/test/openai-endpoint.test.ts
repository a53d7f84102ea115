// The OpenAI-compatible endpoint as an OpenAI client expects it: unknown models are 404 model_not_found, a request
// without `user` leaves no session behind, and malformed bodies answer in OpenAI's error shape.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../src/index.js";

const TOKEN = "openai-endpoint-token-0123456789";
let gateway: Gateway;
let stateDir = "";
let base = "";

beforeEach(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "gateway-openai-endpoint-"));
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({
      gateway: { port: 0, auth: { token: TOKEN }, http: { endpoints: { chatCompletions: { enabled: true } } } },
    }),
  );
  gateway = createGateway({ stateDir, logging: { stdout: false } });
  const address = await gateway.listen();
  base = `http://127.0.0.1:${address.port}/v1`;
});
afterEach(async () => {
  await gateway.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const post = (body: string, contentType = "application/json") =>
  fetch(`${base}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": contentType },
    body,
  });

const transcripts = () => {
  const dir = join(stateDir, "agents", "main", "sessions");
  return existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith(".jsonl")) : [];
};

describe("POST /v1/chat/completions", () => {
  it("an unknown model answers 404 model_not_found in OpenAI's error shape", async () => {
    const response = await post(JSON.stringify({ model: "gpt-9", messages: [{ role: "user", content: "hi" }] }));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        message: expect.stringMatching(/The model `gpt-9` does not exist: this gateway serves "main"/),
        type: "invalid_request_error",
        param: "model",
        code: "model_not_found",
      },
    });
    const known = await post(JSON.stringify({ model: "main", messages: [{ role: "user", content: "hi" }] }));
    expect(known.status).toBe(200);
  });

  it("a request without `user` leaves no session or transcript; with `user` the session is kept", async () => {
    const once = await post(JSON.stringify({ model: "main", messages: [{ role: "user", content: "just once" }] }));
    expect(once.status).toBe(200);
    expect((await once.json()).choices[0].message.content).toMatch(/just once$/);
    expect(gateway.agent.store.list().map((session) => session.key)).toEqual([]);
    expect(transcripts()).toEqual([]);
    const kept = await post(
      JSON.stringify({ model: "main", user: "ada", messages: [{ role: "user", content: "remember me" }] }),
    );
    expect(kept.status).toBe(200);
    expect(gateway.agent.store.list().map((session) => session.key)).toEqual(["agent:main:openai-user:ada"]);
    expect(transcripts()).toHaveLength(1);
  });

  it("malformed bodies answer in OpenAI's shape, without framework error codes", async () => {
    for (const [body, type, status, message] of [
      ["{ not json", "application/json", 400, /not valid JSON/],
      ["", "application/json", 400, /empty/],
      ["[1, 2]", "application/json", 400, /must be a JSON object/],
      ["model=main", "application/x-www-form-urlencoded", 415, /send the body as JSON/],
      [
        JSON.stringify({ model: "main", messages: "hi" }),
        "application/json",
        400,
        /messages must be a non-empty array/,
      ],
    ] as const) {
      const response = await post(body, type);
      const text = await response.text();
      expect(response.status, text).toBe(status);
      expect(text).not.toMatch(/FST_/);
      const parsed = JSON.parse(text);
      expect(parsed.error).toMatchObject({
        type: "invalid_request_error",
        code: null,
        message: expect.stringMatching(message),
      });
      expect(Object.keys(parsed.error).sort()).toEqual(["code", "message", "param", "type"]);
    }
  });
});
