import { afterEach, describe, expect, it } from "vitest";
import { connect, connectParams, sleep, startGateway, TestClient, type TestGateway } from "./helpers.js";

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

function mutations(seed: number, count: number): string[] {
  const base = [
    JSON.stringify({ type: "req", id: "1", method: "health", params: {} }),
    JSON.stringify({ type: "req", id: "2", method: "system-event", params: { text: "hello" } }),
    JSON.stringify({ type: "req", id: "3", method: "logs.tail", params: { cursor: 0, limit: 10 } }),
  ];
  const alphabet = '{}[]":,\\0123456789abcdefnulltrue_proto- \u0000\ud800€';
  let state = seed;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state;
  };
  const out: string[] = [];
  for (let round = 0; round < count; round++) {
    const chars = [...base[round % base.length]!];
    for (let edit = 0; edit < 1 + (next() % 4); edit++) {
      const position = next() % (chars.length + 1);
      const char = alphabet[next() % alphabet.length]!;
      const action = next() % 3;
      if (action === 0) chars.splice(position, 0, char);
      else if (action === 1) chars.splice(position, 1);
      else chars[position] = char;
    }
    out.push(chars.join(""));
  }
  return out;
}

describe("hostile input", () => {
  it("answers a malformed request whose id is readable, and closes on unreadable garbage", async () => {
    gateway = await startGateway();
    const { client } = await connect(gateway.url);
    client.sendRaw(JSON.stringify({ type: "req", id: "x1", method: 42 }));
    const answered = await client.waitFor((frame) => frame.type === "res" && frame.id === "x1");
    expect(answered.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringMatching(/\/method/) });
    client.sendRaw('{"type":"req","id":"x2","method":"health","params":{"__proto__":{"admin":true}}}');
    const polluted = await client.waitFor((frame) => frame.type === "res" && frame.id === "x2");
    expect(polluted.error?.message).toMatch(/forbidden key/);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    client.sendRaw("][ not json");
    expect(await client.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/invalid frame/) });
  });

  it("refuses frames over maxPayload after the handshake", async () => {
    gateway = await startGateway({ maxPayload: 128 * 1024 });
    const { client } = await connect(gateway.url);
    client.sendRaw(
      JSON.stringify({ type: "req", id: "big", method: "health", params: { pad: "x".repeat(200 * 1024) } }),
    );
    expect((await client.closed).code).toBe(1009);
  });

  it("stays up through a bounded fuzz loop while another client is served normally", async () => {
    gateway = await startGateway();
    const bystander = await connect(gateway.url);
    let served = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        const response = await bystander.client.request("health");
        expect(response.ok).toBe(true);
        served++;
      }
    })();
    const frames = mutations(7, 1500);
    let attacker: TestClient | undefined;
    let handshakes = 0;
    for (const [index, frame] of frames.entries()) {
      if (attacker?.socket.readyState !== 1) {
        attacker?.socket.terminate();
        const opened = await connect(gateway.url).catch(() => undefined);
        if (!opened) continue;
        attacker = opened.client;
        handshakes++;
      }
      attacker.sendRaw(frame);
      // Some raw garbage before the handshake too.
      if (index % 100 === 0) {
        const raw = await TestClient.open(gateway.url);
        raw.sendRaw(frame);
        await raw.closed;
      }
      if (index % 50 === 0) await sleep(1);
    }
    // And a few binary frames, which are refused politely.
    attacker?.sendRaw(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    await sleep(50);
    running = false;
    await loop;
    attacker?.socket.terminate();
    expect(served).toBeGreaterThan(10);
    expect(handshakes).toBeGreaterThan(1);
    // The gateway is still healthy for new clients.
    const fresh = await connect(gateway.url, connectParams());
    expect((await fresh.client.request("health")).ok).toBe(true);
    fresh.client.close();
    bystander.client.close();
  }, 60_000);
});
