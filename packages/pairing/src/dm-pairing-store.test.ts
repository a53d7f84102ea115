import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DmPairingStore, PAIRING_ALPHABET } from "./dm-pairing-store.js";

let stateDir = "";
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), "gw-dm-pairing-"));
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

describe("DM pairing store", () => {
  it("a code per unknown sender, at most 3 pending per account, expiring after an hour", async () => {
    let now = 1_000_000;
    const store = new DmPairingStore(stateDir, { now: () => now });
    const outcomes = [];
    for (const id of ["1", "2", "3", "4"]) outcomes.push(await store.request("memory", "default", { id }, id));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(["created", "created", "created", "limited"]);
    for (const char of (outcomes[0] as { request: { code: string } }).request.code)
      expect(PAIRING_ALPHABET).toContain(char);
    expect((await store.request("memory", "other", { id: "4" }, "4")).kind).toBe("created");
    expect((await store.request("memory", "default", { id: "1" }, "1")).kind).toBe("pending");
    now += 60 * 60_000 + 1;
    expect(store.list({ accountId: "default" })).toHaveLength(0);
    const code = (outcomes[0] as { request: { code: string } }).request.code;
    expect(await store.approve("memory", code)).toBeUndefined();
    expect((await store.request("memory", "default", { id: "4" }, "4")).kind).toBe("created");
  });

  it("an approval is on disk (0600) when it resolves, and a new store reads it back", async () => {
    const store = new DmPairingStore(stateDir);
    const outcome = await store.request("memory", "default", { id: "501", name: "Grace" }, "501");
    if (outcome.kind !== "created") throw new Error(outcome.kind);
    const approved = await store.approve("memory", ` ${outcome.request.code.toLowerCase()} `);
    expect(approved?.senderId).toBe("501");
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(store.path, "utf8")).approved).toEqual({ "memory:default": ["501"] });
    expect(new DmPairingStore(stateDir).isApproved("memory", "default", "501")).toBe(true);
  });

  it("a code that could not be stored is not handed out, and an approval that could not be stored is undone", async () => {
    const store = new DmPairingStore(stateDir);
    const first = await store.request("memory", "default", { id: "7" }, "7");
    if (first.kind !== "created") throw new Error(first.kind);
    // The file's directory is replaced by a file: every write fails from now on.
    rmSync(join(stateDir, "credentials"), { recursive: true });
    writeFileSync(join(stateDir, "credentials"), "");
    await expect(store.request("memory", "default", { id: "8" }, "8")).rejects.toMatchObject({
      code: "STATE_WRITE_FAILED",
    });
    expect(store.list().map((request) => request.senderId)).toEqual(["7"]);
    await expect(store.approve("memory", first.request.code)).rejects.toMatchObject({ code: "STATE_WRITE_FAILED" });
    expect(store.isApproved("memory", "default", "7")).toBe(false);
    expect(store.list().map((request) => request.senderId)).toEqual(["7"]);
  });

  it("an unreadable file is moved aside, not fatal: nobody is approved until they pair again", async () => {
    mkdirSync(join(stateDir, "credentials"));
    writeFileSync(join(stateDir, "credentials", "dm-pairing.json"), '{"approved": {"memory:default": ["501"]');
    const problems: string[] = [];
    const store = new DmPairingStore(stateDir, { onProblem: (problem) => problems.push(problem.reason) });
    expect(problems).toEqual([expect.stringMatching(/^not JSON/)]);
    expect(readFileSync(store.problem!.movedTo, "utf8")).toContain("501");
    expect(store.isApproved("memory", "default", "501")).toBe(false);
    expect((await store.request("memory", "default", { id: "501" }, "501")).kind).toBe("created");
  });

  it("carries over the file of earlier versions (<state>/channels/pairing.json)", () => {
    mkdirSync(join(stateDir, "channels"));
    const legacy = { version: 1, pending: [], approved: { "telegram:default": ["42"] } };
    writeFileSync(join(stateDir, "channels", "pairing.json"), JSON.stringify(legacy));
    const store = new DmPairingStore(stateDir);
    expect(store.isApproved("telegram", "default", "42")).toBe(true);
    expect(readdirSync(join(stateDir, "channels"))).toEqual([]);
  });
});
