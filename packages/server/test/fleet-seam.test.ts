// The seam the fleet builds on: every broadcast is observed with its payload serialised once; an event from elsewhere
// is delivered exactly like a local one (audience, seq) without being observed again; presence changes go out and
// entries of other instances are listed.
import { until } from "@gateway/vitest-preset/wait";
import { afterEach, describe, expect, it } from "vitest";
import { connect, startGateway, type TestGateway } from "./helpers.js";

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

const chat = (runId: string) => ({
  runId,
  sessionKey: "main",
  seq: 0,
  state: "delta" as const,
  message: { role: "assistant", content: [{ type: "text", text: "hi" }], timestamp: 1 },
});

describe("the server's fleet seam", () => {
  it("onBroadcast sees broadcast() with its JSON; deliver() reaches clients by audience, keeps seq, is not observed", async () => {
    gateway = await startGateway();
    const seen: Array<[string, string | undefined]> = [];
    const stop = gateway.server.onBroadcast((event, payloadJson) => seen.push([event, payloadJson]));
    const reader = await connect(gateway.url, { scopes: ["operator.read"] });
    const pairing = await connect(gateway.url, { scopes: ["operator.pairing"] });
    gateway.server.broadcast("chat", chat("local") as never);
    gateway.server.deliver("chat", chat("remote"), { payloadJson: JSON.stringify(chat("remote")) });
    gateway.server.broadcast("chat", chat("local-2") as never);
    await reader.client.waitFor(() => reader.client.frames.filter((frame) => frame.event === "chat").length === 3);
    const frames = reader.client.frames.filter((frame) => frame.event === "chat");
    expect(frames.map((frame) => frame.payload.runId)).toEqual(["local", "remote", "local-2"]);
    expect(frames.map((frame) => frame.seq)).toEqual([frames[0]!.seq, frames[0]!.seq! + 1, frames[0]!.seq! + 2]);
    expect(seen).toEqual([
      ["chat", JSON.stringify(chat("local"))],
      ["chat", JSON.stringify(chat("local-2"))],
    ]);
    expect(pairing.client.frames.filter((frame) => frame.event === "chat")).toEqual([]);
    stop();
    gateway.server.broadcast("chat", chat("after") as never);
    expect(seen).toHaveLength(2);
    reader.client.close();
    pairing.client.close();
  });

  it("presence: own changes are reported; entries of another instance are listed beside the own ones", async () => {
    gateway = await startGateway();
    const changes: Array<[string, string | undefined]> = [];
    gateway.server.presence.onChange((key, entry) => changes.push([key, entry?.mode]));
    gateway.server.presence.tagOwn("fleet:here");
    const ui = await connect(gateway.url, {
      client: { id: "ui", version: "1", platform: "web", mode: "ui", instanceId: "ui-1" },
    });
    expect(changes).toContainEqual(["ui-1", "ui"]);
    gateway.server.presence.setRemote("there", "far-1", {
      instanceId: "far-1",
      mode: "backend",
      ts: Date.now(),
      tags: ["fleet:there"],
    });
    await until(async () => {
      const list = (await ui.client.request("system-presence")).payload as any[];
      return list.some((entry) => entry.instanceId === "far-1");
    });
    const list = (await ui.client.request("system-presence")).payload as any[];
    expect(list.find((entry) => entry.instanceId === "ui-1").tags).toEqual(["fleet:here"]);
    expect(list.find((entry) => entry.instanceId === "far-1").tags).toEqual(["fleet:there"]);
    await ui.client.waitFor(() =>
      ui.client.frames.some(
        (frame) =>
          frame.event === "presence" && frame.payload.presence.some((entry: any) => entry.instanceId === "far-1"),
      ),
    );
    gateway.server.presence.dropRemote("there");
    const after = (await ui.client.request("system-presence")).payload as any[];
    expect(after.some((entry) => entry.instanceId === "far-1")).toBe(false);
    ui.client.close();
  });
});
