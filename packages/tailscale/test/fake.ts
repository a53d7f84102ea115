// Put the fake `tailscale` (test/fake-tailscale.mjs) on a PATH of its own, with a scenario, and read back its calls.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const script = join(dirname(fileURLToPath(import.meta.url)), "fake-tailscale.mjs");

/** The situation the fake plays. */
export interface FakeScenario {
  backend?: "Running" | "NeedsLogin" | "down";
  funnel?: boolean;
  denied?: boolean;
  serve?: unknown;
}

/** A directory holding a `tailscale` command; `env.PATH` finds it first. */
export interface FakeTailscale {
  readonly dir: string;
  readonly env: Record<string, string>;
  /** Each call's arguments, in order. */
  calls(): string[][];
  /** The serve config the fake holds now. */
  serveConfig(): unknown;
  scenario(next: FakeScenario): void;
  remove(): void;
}

export function installFakeTailscale(scenario: FakeScenario = {}): FakeTailscale {
  const dir = mkdtempSync(join(tmpdir(), "fake-tailscale-"));
  const bin = join(dir, "tailscale");
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${script}" "${dir}" "$@"\n`);
  chmodSync(bin, 0o755);
  const fake: FakeTailscale = {
    dir,
    env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir },
    calls: () => {
      const path = join(dir, "calls.jsonl");
      if (!existsSync(path)) return [];
      return readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]);
    },
    serveConfig: () => {
      const path = join(dir, "serve.json");
      return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : {};
    },
    scenario: (next) => writeFileSync(join(dir, "scenario.json"), JSON.stringify(next)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  fake.scenario(scenario);
  return fake;
}
