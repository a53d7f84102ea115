import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import JSON5 from "json5";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import { type ConfigLayer, ensureStarterConfig, hashConfigText, loadConfig } from "./load-config.js";
import { redactSecrets } from "./redact.js";
import { composeConfigSchema, serverConfigSections } from "./schema.js";

const schema = composeConfigSchema(serverConfigSections);
let stateDir = "";
let path = "";
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), "gateway-config-"));
  path = join(stateDir, "gateway.json5");
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

const load = (env: Record<string, string> = {}, layers?: ConfigLayer[]) =>
  loadConfig({ path, stateDir, schema, env, ...(layers ? { layers } : {}) });

function issuesOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("treats a missing file as safe defaults", () => {
    const loaded = load();
    expect(loaded).toMatchObject({ exists: false, hash: null, raw: null, config: {} });
  });

  it("layers defaults < file < each layer in order (the environment's, then the flags')", () => {
    writeFileSync(
      path,
      "{ gateway: { port: 1000, bind: 'lan', auth: { token: 'file-token-0123456789' } }, logging: { level: 'warn' } }",
    );
    const loaded = load({}, [
      { source: "GATEWAY_* environment variables", config: { gateway: { port: 2000 }, logging: { level: "debug" } } },
      { source: "command-line flags", config: { gateway: { port: 3000 } } },
    ]);
    expect(loaded.config).toEqual({
      gateway: { port: 3000, bind: "lan", auth: { token: "file-token-0123456789" } },
      logging: { level: "debug" },
    });
    expect(loaded.fileConfig).toMatchObject({ gateway: { port: 1000 } });
    expect(loaded.hash).toBe(hashConfigText(readFileSync(path, "utf8")));
  });

  it("substitutes environment variables, reads .env without overriding the environment, and keeps the escape literal", () => {
    writeFileSync(join(stateDir, ".env"), "# secrets\nTOKEN_FROM_DOTENV=dotenv-token-0123456789\nLEVEL=error\n");
    writeFileSync(
      path,
      "{ gateway: { auth: { token: '${TOKEN_FROM_DOTENV}' }, host: 'x$${NOT_A_VAR}' }, logging: { level: '${LEVEL}' } }",
    );
    const loaded = load({ LEVEL: "warn" });
    expect(loaded.config).toEqual({
      gateway: { auth: { token: "dotenv-token-0123456789" }, host: "x${NOT_A_VAR}" },
      logging: { level: "warn" },
    });
  });

  it("names a missing or empty variable and where it is used", () => {
    writeFileSync(path, "{ gateway: { auth: { token: '${MISSING_TOKEN}', password: '${EMPTY}' } } }");
    const issues = issuesOf(() => load({ EMPTY: "" }));
    expect(issues).toEqual([
      expect.objectContaining({ path: "gateway.auth.token", message: "environment variable MISSING_TOKEN is not set" }),
      expect.objectContaining({ path: "gateway.auth.password", message: "environment variable EMPTY is empty" }),
    ]);
  });

  it("resolves $include relative to the including file, and refuses cycles and missing files", () => {
    mkdirSync(join(stateDir, "parts"));
    writeFileSync(join(stateDir, "parts", "logging.json5"), "{ logging: { level: 'debug', file: '/tmp/x.log' } }");
    writeFileSync(path, "{ $include: './parts/logging.json5', logging: { level: 'error' } }");
    expect(load().config).toEqual({ logging: { level: "error", file: "/tmp/x.log" } });
    expect(load().files).toEqual([path, join(stateDir, "parts", "logging.json5")]);

    writeFileSync(join(stateDir, "a.json5"), "{ $include: 'b.json5' }");
    writeFileSync(join(stateDir, "b.json5"), "{ $include: 'a.json5' }");
    writeFileSync(path, "{ $include: 'a.json5' }");
    expect(issuesOf(() => load())[0]?.message).toMatch(/\$include cycle: .*a\.json5 → .*b\.json5 → .*a\.json5/);

    for (let depth = 0; depth < 12; depth++) {
      writeFileSync(join(stateDir, `deep-${depth}.json5`), `{ $include: 'deep-${depth + 1}.json5' }`);
    }
    writeFileSync(join(stateDir, "deep-12.json5"), "{}");
    writeFileSync(path, "{ $include: 'deep-0.json5' }");
    expect(issuesOf(() => load())[0]?.message).toMatch(/nests deeper than 8 files/);

    writeFileSync(path, "{ $include: 'nope.json5' }");
    expect(issuesOf(() => load())[0]).toMatchObject({ message: "cannot read included file: ENOENT" });
  });

  it("a config path that is a directory is a sentence that says what to do, not an EISDIR stack", () => {
    const directory = join(stateDir, "conf.json5");
    mkdirSync(directory);
    expect(issuesOf(() => loadConfig({ path: directory, stateDir, schema, env: {} }))[0]).toMatchObject({
      message: `config file is a directory, not a file: point --config (or GATEWAY_CONFIG) at a file, e.g. ${join(directory, "gateway.json5")}`,
    });
  });

  it("reports JSON5 syntax errors with line and column", () => {
    writeFileSync(path, "{\n  gateway: { port: 18789,, }\n}");
    const [issue] = issuesOf(() => load());
    expect(issue?.path).toMatch(/gateway\.json5:2:\d+$/);
    expect(issue?.message).toMatch(/not valid JSON5/);
  });

  it("lists every validation problem with path, expectation, finding and a did-you-mean hint", () => {
    writeFileSync(
      path,
      "{ gateway: { prot: 80, port: 'x', bind: 'everywhere', auth: { mode: 'token', token: 'short' } }, loging: {} }",
    );
    const issues = issuesOf(() => load());
    const byPath = Object.fromEntries(issues.map((issue) => [issue.path, issue]));
    expect(byPath["gateway.prot"]).toMatchObject({ message: "unknown key", hint: "did you mean `port`?" });
    expect(byPath.loging).toMatchObject({ message: "unknown key", hint: "did you mean `logging`?" });
    expect(byPath["gateway.port"]).toMatchObject({ expected: "an integer ≥ 0 and ≤ 65535", found: '"x"' });
    expect(byPath["gateway.bind"]).toMatchObject({ expected: '"loopback" | "lan" | "custom"', found: '"everywhere"' });
    expect(byPath["gateway.auth.token"]).toMatchObject({
      expected: "a string of at least 16 characters",
      found: "[redacted]",
    });
    expect(issues.length).toBe(5);
    expect(String(new ConfigError(path, issues).message)).not.toContain("short");
  });

  it("validates what layers set and says where it came from; a layer's own problems are reported too", () => {
    const environment = { source: "GATEWAY_* environment variables", config: { gateway: { bind: "moon" } } };
    expect(issuesOf(() => load({}, [environment]))[0]).toMatchObject({
      path: "gateway.bind",
      hint: "set by GATEWAY_* environment variables",
    });
    const broken = {
      source: "flags",
      config: {},
      issues: [{ path: "gateway.port", message: "--port is not a number" }],
    };
    expect(issuesOf(() => load({}, [broken]))).toEqual([{ path: "gateway.port", message: "--port is not a number" }]);
  });

  it("writes a commented starter config with a strong token, mode 0600, once", () => {
    const created = ensureStarterConfig(path);
    expect(created?.token).toMatch(/^[\w-]{43}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, "utf8");
    expect(text).toMatch(/^\/\/ Gateway configuration/);
    expect(JSON5.parse(text).gateway.auth.token).toBe(created?.token);
    expect(load().config).toMatchObject({ gateway: { auth: { mode: "token", token: created?.token } } });
    expect(ensureStarterConfig(path)).toBeUndefined();
  });

  it("redacts secrets wherever config is shown", () => {
    expect(
      redactSecrets({ gateway: { auth: { token: "abc", password: "" } }, models: { openai: { apiKey: "k" } } }),
    ).toEqual({
      gateway: { auth: { token: "[redacted]", password: "" } },
      models: { openai: { apiKey: "[redacted]" } },
    });
  });
});
