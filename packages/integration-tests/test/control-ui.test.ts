// The Control UI and WebChat in a real browser (Debian's chromium through playwright-core) against a real gateway
// started in-process: sign-in from the URL fragment, chat streaming and abort, a message the gateway never
// confirmed (Retry delivers it exactly once), a refused config edit shown with its path and a conflict, then one
// applied live, cron, logs, a gateway restart, WebChat. One browser for the file; the console must stay clean.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, get as httpGet, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEchoBackend } from "@gateway/agent";
import { runCli } from "@gateway/cli";
import {
  createGatewayClient,
  createMemoryKeyStore,
  createNodeClient,
  loadDeviceIdentity,
  type WebSocketConstructor,
} from "@gateway/client";
import { qrLoginPluginPath } from "@gateway/fakes";
import { createGateway, type Gateway } from "@gateway/gateway";
import { chatMessageText } from "@gateway/protocol";
import { checkAvailable, eventually } from "@gateway/vitest-preset/wait";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { sent } from "./fixtures/dm-stranger-plugin.js";

const here = dirname(fileURLToPath(import.meta.url));
const controlUi = join(here, "..", "..", "control-ui");
const screenshots = join(here, "..", "test-output", "control-ui");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = checkAvailable(existsSync(chromiumPath), `chromium at ${chromiumPath} (apt-get install chromium)`);
const TOKEN = "control-ui-test-token-0123456789";
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact?: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** Console lines a page may print while the gateway is deliberately away. */
const EXPECTED_WHILE_DOWN = /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/;

describe.skipIf(!haveChromium)("the Control UI in chromium", { timeout: 30_000 }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let gateway: Gateway;
  let stateDir: string;
  let origin = "";
  let port = 0;
  const consoleProblems: string[] = [];
  let gatewayDown = false;
  let embedSite: Server;
  let embedOrigin = "";

  const startGateway = async () => {
    // Later starts keep the port: the page reconnects to the address it was loaded from.
    gateway = createGateway({
      stateDir,
      version: "9.9.9-test",
      logging: { stdout: false },
      ...(port ? { flags: { source: "the test", config: { gateway: { port } } } } : {}),
    });
    const address = await gateway.listen();
    // A reply streamed word by word, slowly enough to be stopped mid-way.
    await gateway.agent.replaceRuntime(createEchoBackend({ delayMs: 40 }));
    port = address.port;
    origin = `http://127.0.0.1:${port}`;
  };

  const watchConsole = (target: Page) => {
    target.on("console", (message) => {
      if (message.type() !== "error") return;
      if (gatewayDown && EXPECTED_WHILE_DOWN.test(message.text())) return;
      consoleProblems.push(message.text());
    });
    target.on("pageerror", (error) => consoleProblems.push(`uncaught: ${error.message}`));
  };

  /** The status of a GET with exactly these headers (fetch would not send Host or Origin as given). */
  const statusOf = (path: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const request = httpGet({ host: "127.0.0.1", port, path, headers }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on("error", reject);
    });

  /** The CLI, in-process, against this gateway. */
  const cli = async (args: string[]) => {
    let stdout = "";
    let stderr = "";
    const code = await runCli([...args, "--url", `ws://127.0.0.1:${port}`, "--token", TOKEN], {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      env: {},
      isTty: false,
    });
    return { code, stdout, stderr };
  };

  const accessibilityProblems: string[] = [];
  /** Save the page as a screenshot, and check it with axe-core (serious and critical violations are kept). */
  const shot = async (target: Page, name: string) => {
    await target.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
    await target.evaluate(axeSource);
    const violations = await target.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
      return (await axe.run()).violations;
    });
    for (const violation of violations)
      if (violation.impact === "serious" || violation.impact === "critical")
        accessibilityProblems.push(
          `${name}: ${violation.id} (${violation.help}) at ${violation.nodes.map((node) => `${node.target.join(" ")} (${node.failureSummary ?? ""})`).join("; ")}`,
        );
  };

  beforeAll(async () => {
    // The UI as the gateway serves it, built from the sources under test.
    const built = spawnSync(process.execPath, [join(controlUi, "build-ui.mjs")], { cwd: controlUi, encoding: "utf8" });
    if (built.status !== 0) throw new Error(`building the Control UI failed: ${built.stderr}`);
    mkdirSync(screenshots, { recursive: true });
    // Another site, embedding <gateway-chat> from the gateway.
    embedSite = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(
        `<!doctype html><html lang="en"><meta charset="utf-8"><title>A site</title><h1>My site</h1>
<gateway-chat></gateway-chat>
<script type="module" src="http://127.0.0.1:${port}/assets/gateway-chat.js"></script></html>`,
      );
    });
    await new Promise<void>((resolve) => embedSite.listen(0, "127.0.0.1", resolve));
    embedOrigin = `http://127.0.0.1:${(embedSite.address() as { port: number }).port}`;
    stateDir = mkdtempSync(join(tmpdir(), "gateway-control-ui-"));
    writeFileSync(
      join(stateDir, "gateway.json5"),
      JSON.stringify({
        // gateway.lan maps to 127.0.0.1 in the browser: a plain-HTTP origin that is not local (no secure context).
        gateway: {
          port: 0,
          auth: { mode: "token", token: TOKEN },
          allowedHosts: ["gateway.lan"],
          // The browser context that sends X-Forwarded-For stands for a page behind a proxy: never loopback.
          trustedProxies: ["127.0.0.1"],
          controlUi: { allowedOrigins: [embedOrigin] },
        },
        agents: { defaults: { backend: "echo" } },
        // A channel that logs in with a QR, and one where a stranger asks for a pairing code.
        plugins: [qrLoginPluginPath, join(here, "fixtures", "dm-stranger-plugin.ts")],
        channels: { qrchat: { dir: join(stateDir, "qrchat") }, dmchat: { sender: "stranger-1" } },
      }),
    );
    await startGateway();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-sync",
        "--host-resolver-rules=MAP gateway.lan 127.0.0.1",
      ],
    });
    context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    // Shorter than the test's own timeout, so that a failure names the element it waited for.
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    watchConsole(page);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await new Promise((resolve) => embedSite?.close(resolve));
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it("signs in from the token in the URL fragment, forgets the fragment, and shows the overview", async () => {
    await page.goto(`${origin}/#token=${TOKEN}`);
    await page.getByRole("status").filter({ hasText: "Connected" }).first().waitFor();
    expect(page.url()).not.toContain(TOKEN);
    await page.getByText("Event-loop delay").waitFor();
    await expect(page.getByText("9.9.9-test").count()).resolves.toBeGreaterThan(0);
    await shot(page, "overview");
  });

  it("asks for the token when it is wrong, and connects with the right one", async () => {
    await page.evaluate(() =>
      localStorage.setItem("gateway.credentials.v1", JSON.stringify({ token: "wrong-token-0123456789abc" })),
    );
    await page.reload();
    await page.getByRole("form", { name: "Sign in" }).waitFor();
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(/did not accept/);
    await shot(page, "sign-in");
    await page.getByLabel("Secret").fill(TOKEN);
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByText("Event-loop delay").waitFor();
    // The wrong token was a failed attempt from a browser: it must not count as an error of the page.
    consoleProblems.splice(0);
  });

  it("chats with the echo agent: the reply streams, Stop aborts one mid-way, an empty message cannot be sent", async () => {
    await page.getByRole("link", { name: "Chat" }).click();
    const composer = page.getByLabel("Message", { exact: true });
    const send = page.getByRole("button", { name: "Send" });
    await expect(send.isDisabled()).resolves.toBe(true);
    await composer.fill("   ");
    await expect(send.isDisabled()).resolves.toBe(true);
    await composer.press("Enter");
    await composer.fill("hello there from the browser, streaming word by word");
    await composer.press("Enter");
    // Streamed: the reply is shown growing before it is complete.
    await page.locator(".bubble.streaming").waitFor();
    await page.locator(".bubble.assistant:not(.streaming)").filter({ hasText: "streaming word by word" }).waitFor();
    await shot(page, "chat");

    // Markdown in a reply is rendered, markup in it is only text, and only http(s) links become links.
    await composer.fill(
      "**bold** <img src=x onerror=alert(1)> [bad](javascript:alert(1)) [good](https://example.com/x)",
    );
    await composer.press("Enter");
    const reply = page.locator(".bubble.assistant:not(.streaming)").filter({ hasText: "good" }).last();
    await reply.waitFor();
    await expect(reply.locator("strong").textContent()).resolves.toBe("bold");
    expect(await page.locator(".chat-log img").count()).toBe(0);
    await expect(reply.textContent()).resolves.toContain("<img src=x onerror=alert(1)>");
    expect(await reply.locator("a").evaluateAll((links) => links.map((link) => link.getAttribute("href")))).toEqual([
      "https://example.com/x",
    ]);

    await composer.fill(Array.from({ length: 60 }, (_, index) => `word${index}`).join(" "));
    await send.click();
    await page.locator(".bubble.streaming").waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    await page.locator(".bubble.assistant").filter({ hasText: "(stopped)" }).waitFor();
    const history = await gateway.agent.store.get("agent:main:main");
    expect(history).toBeDefined();
    // The session is listed; another client's session appears beside it, and shows its own conversation.
    const sessions = page.getByRole("list", { name: "Sessions" });
    await sessions.getByText("agent:main:main").waitFor();
    const other = createGatewayClient({ url: `ws://127.0.0.1:${port}`, token: TOKEN, reconnect: false });
    try {
      await other.request("chat.send", { sessionKey: "agent:main:second", message: "from another client" });
    } finally {
      other.close();
    }
    await sessions.getByText("agent:main:second").click();
    await page.locator(".bubble.user").filter({ hasText: "from another client" }).waitFor();
    expect(await page.locator(".bubble").filter({ hasText: "hello there from the browser" }).count()).toBe(0);
    await sessions.getByText("agent:main:main").click();
    await page.locator(".bubble").filter({ hasText: "hello there from the browser" }).first().waitFor();
  });

  it("keeps a message the gateway never confirmed: Retry delivers it exactly once", async () => {
    const tab = await context.newPage();
    watchConsole(tab);
    let dropNext: "forward" | "drop" | undefined;
    await tab.routeWebSocket(/.*/, (socket) => {
      const server = socket.connectToServer();
      let cut = false;
      // Nothing reaches the page once its send has been cut off: not the answer, not the reply.
      server.onMessage((message) => {
        if (!cut) socket.send(message);
      });
      socket.onMessage((message) => {
        if (dropNext && String(message).includes('"chat.send"')) {
          // Forwarded or not, the page never hears back: the connection drops before the answer.
          if (dropNext === "forward") server.send(message);
          dropNext = undefined;
          cut = true;
          socket.close();
          return;
        }
        if (!cut) server.send(message);
      });
    });
    gatewayDown = true; // the dropped connection may log
    await tab.goto(`${origin}/#/chat`);
    const composer = tab.getByLabel("Message", { exact: true });
    await tab.getByText("Connected").first().waitFor();

    const count = async (text: string) =>
      (await gateway.agent.store.history("agent:main:main", 1000)).filter(
        (message) => message.role === "user" && chatMessageText(message) === text,
      ).length;

    // 1. The gateway got it, the page never heard: once back, the transcript shows it arrived; nothing is resent.
    dropNext = "forward";
    await composer.fill("arrived before the link dropped");
    await composer.press("Enter");
    await tab.getByText("Delivery unconfirmed").waitFor();
    await shot(tab, "chat-unconfirmed");
    await eventually(async () => expect(await count("arrived before the link dropped")).toBe(1));
    await tab.getByText("Connected").first().waitFor();
    await eventually(async () => expect(await tab.getByText("Delivery unconfirmed").count()).toBe(0));
    await tab.locator(".bubble.user").filter({ hasText: "arrived before the link dropped" }).waitFor();
    expect(await count("arrived before the link dropped")).toBe(1);

    // 2. It never arrived: Retry delivers it, once.
    dropNext = "drop";
    await composer.fill("lost on the way");
    await composer.press("Enter");
    await tab.getByText("Delivery unconfirmed").waitFor();
    expect(await count("lost on the way")).toBe(0);
    // Survives a reload.
    await tab.reload();
    await tab.getByText("Delivery unconfirmed").waitFor();
    await tab.getByRole("button", { name: "Retry" }).click();
    await eventually(async () => expect(await count("lost on the way")).toBe(1));
    await eventually(async () => expect(await tab.getByText("Delivery unconfirmed").count()).toBe(0));
    gatewayDown = false;
    await tab.close();
  });

  it("config: a refused edit lists each problem with its path, a concurrent edit is a conflict, a valid one applies live", async () => {
    await page.getByRole("link", { name: "Config" }).click();
    await page.getByRole("button", { name: "JSON5" }).click();
    const editor = page.getByLabel("Config (JSON5)");
    await eventually(async () => expect(await editor.inputValue()).toContain("auth"));
    const original = await editor.inputValue();
    const withLogging = (level: string) => original.replace(/^\{/, `{ logging: { level: ${JSON.stringify(level)} },`);

    await editor.fill(withLogging("loud"));
    await page.getByRole("button", { name: "Save and apply" }).click();
    const refusal = page.getByRole("alert").filter({ hasText: "Not saved" });
    await refusal.waitFor();
    await expect(refusal.locator("code").allTextContents()).resolves.toContain("logging.level");
    await shot(page, "config-refused");

    // Someone else edits the file meanwhile: the page's edit is not written over theirs.
    const other = createGatewayClient({ url: `ws://127.0.0.1:${port}`, token: TOKEN, reconnect: false });
    try {
      const current = await other.request("config.get");
      await other.request("config.patch", { raw: '{ heartbeat: { every: "45m" } }', baseHash: current.hash! });
    } finally {
      other.close();
    }
    await editor.fill(withLogging("debug"));
    await page.getByRole("button", { name: "Save and apply" }).click();
    await page.getByRole("alert").filter({ hasText: "Someone else changed the config" }).waitFor();
    expect((gateway.config.current.config as { logging?: { level?: string } }).logging?.level).not.toBe("debug");

    await page.getByRole("button", { name: "Reload from the gateway" }).click();
    await eventually(async () => expect(await editor.inputValue()).toContain("45m"));
    const reloaded = await editor.inputValue();
    await editor.fill(reloaded.replace(/^\{/, '{ logging: { level: "debug" },'));
    await page.getByRole("button", { name: "Save and apply" }).click();
    await page.getByText("Saved and applied").waitFor();
    expect((gateway.config.current.config as { logging?: { level?: string } }).logging?.level).toBe("debug");
    await eventually(() => expect(gateway.server.logger.level).toBe("debug"));
  });

  it("config form: generated from the schema, a refused value is shown at its field, a valid one applies", async () => {
    await page.getByRole("button", { name: "Form" }).click();
    await page.locator('details[data-section="logging"] > summary').click();
    await page.getByLabel("level", { exact: true }).selectOption('"warn"');
    await page.locator('details[data-section="agents"] > summary').click();
    const model = page.locator('[data-path="agents.defaults.model"]');
    await model.fill("nope");
    await page.getByRole("button", { name: "Save and apply" }).click();
    const fieldError = page.locator("#config-field-agents-defaults-model-error");
    await fieldError.waitFor();
    expect(await model.getAttribute("aria-invalid")).toBe("true");
    await model.scrollIntoViewIfNeeded();
    await shot(page, "config-form");
    expect((gateway.config.current.config as { logging?: { level?: string } }).logging?.level).toBe("debug");
    await model.fill("");
    await page.getByRole("button", { name: "Save and apply" }).click();
    await page.getByText("Saved and applied").waitFor();
    expect((gateway.config.current.config as { logging?: { level?: string } }).logging?.level).toBe("warn");
    expect(await fieldError.count()).toBe(0);
  });

  it("automations: adds a job, runs it now, shows its history", async () => {
    await page.getByRole("link", { name: "Automations" }).click();
    await page.getByLabel("Name").fill("Browser job");
    await page.getByLabel("Minutes").fill("90");
    await page.getByLabel("Message to the main session").fill("a note from the cron page");
    await page.getByRole("button", { name: "Add job" }).click();
    const row = page.locator('tr[data-job="Browser job"]');
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain("every 1.5 h");
    await row.getByRole("button", { name: "Run now" }).click();
    await eventually(async () => expect(await row.textContent()).toMatch(/\(ok\)/), { timeoutMs: 10_000 });
    await row.getByRole("button", { name: "History" }).click();
    await page.locator(".runs li").first().waitFor();
    await expect(page.locator(".runs").textContent()).resolves.toContain("ok");
    await shot(page, "automations");

    // Edited: a schedule the gateway refuses is shown and changes nothing; then schedule, message and enabled change.
    await row.getByRole("button", { name: "Edit" }).click();
    const form = page.getByRole("form", { name: "Edit Browser job" });
    await expect(form.getByLabel("Minutes").inputValue()).resolves.toBe("90");
    await expect(form.getByLabel("Message to the main session").inputValue()).resolves.toBe(
      "a note from the cron page",
    );
    await form.getByLabel("Schedule").selectOption("cron");
    await form.getByLabel("Expression").fill("not a cron expression");
    await form.getByRole("button", { name: "Save changes" }).click();
    await eventually(async () => expect(await form.getByRole("alert").textContent()).toMatch(/\S/));
    await expect(row.textContent()).resolves.toContain("every 1.5 h");
    await form.getByLabel("Schedule").selectOption("every");
    await form.getByLabel("Minutes").fill("30");
    await form.getByLabel("Message to the main session").fill("an edited note");
    await form.getByLabel("Enabled").uncheck();
    await shot(page, "automations-edit");
    await form.getByRole("button", { name: "Save changes" }).click();
    await eventually(async () => expect(await row.textContent()).toContain("every 30 min"));
    expect(await form.count()).toBe(0);
    expect(await row.getByLabel("Browser job enabled").isChecked()).toBe(false);
    const operator = createGatewayClient({ url: `ws://127.0.0.1:${port}`, token: TOKEN, reconnect: false });
    try {
      const { jobs } = await operator.request("cron.list", { includeDisabled: true });
      expect(jobs.find((job) => job.name === "Browser job")).toMatchObject({
        enabled: false,
        schedule: { kind: "every", everyMs: 30 * 60_000 },
        payload: { kind: "systemEvent", text: "an edited note" },
      });
    } finally {
      operator.close();
    }
  });

  it("logs: follows the gateway's log and filters it", async () => {
    await page.getByRole("link", { name: "Logs" }).click();
    gateway.server.logger.warn("a line for the log page to find");
    await page.locator(".log-line").filter({ hasText: "a line for the log page to find" }).waitFor({ timeout: 10_000 });
    await page.getByLabel("Level").selectOption("50");
    await eventually(async () =>
      expect(await page.locator(".log-line").filter({ hasText: "a line for the log page" }).count()).toBe(0),
    );
    await page.getByLabel("Level").selectOption("10");
    await page.getByLabel("Filter").fill("for the log page");
    await eventually(async () => expect(await page.locator(".log-line").count()).toBe(1));
    await shot(page, "logs");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download" }).click();
    const file = await (await download).path();
    expect(readFileSync(file, "utf8")).toContain("a line for the log page to find");
    await page.getByLabel("Filter").fill("");
  });

  it("channels: links an account with the QR its channel shows", async () => {
    await page.getByRole("link", { name: "Channels" }).click();
    const link = page.getByRole("button", { name: "Link with QR" });
    await link.click();
    const qr = page.getByRole("img", { name: "QR code to link qrchat" });
    await eventually(async () => expect(await qr.getAttribute("src")).toBe("data:image/png;base64,AAAA"));
    await page.getByText("scan the QR").waitFor();
    await shot(page, "channels-qr");
    writeFileSync(join(stateDir, "qrchat", "scanned"), "");
    await page.getByText("qrchat/default is linked").waitFor();
    await page.locator(".badge.ok").filter({ hasText: "connected" }).first().waitFor();
    await eventually(async () => expect(await link.count()).toBe(0));
    await shot(page, "channels");
  });

  it("pairing: a stranger's DM pairing code is approved from the page", async () => {
    await page.getByRole("link", { name: "Pairing" }).click();
    const row = page.locator("tr[data-code]");
    await row.waitFor();
    const code = (await row.getAttribute("data-code"))!;
    expect(sent.some((message) => message.peer === "stranger-1" && message.text.includes(code))).toBe(true);
    await expect(row.textContent()).resolves.toContain("A Stranger");
    await shot(page, "pairing");
    await page.getByRole("button", { name: `Approve ${code}` }).click();
    await page.getByText("No one is waiting").waitFor();
    const other = createGatewayClient({ url: `ws://127.0.0.1:${port}`, token: TOKEN, reconnect: false });
    try {
      expect((await other.request("channels.pairing.list", {})).requests).toEqual([]);
    } finally {
      other.close();
    }
  });

  it("a browser behind a proxy waits for approval; approved with the CLI, it continues by itself", async () => {
    // Another browser profile (its own device identity) whose requests arrive through a proxy: not loopback.
    const remote = await browser.newContext({
      viewport: { width: 1200, height: 800 },
      extraHTTPHeaders: { "x-forwarded-for": "203.0.113.9" },
    });
    remote.setDefaultTimeout(10_000);
    let deviceId = "";
    try {
      const tab = await remote.newPage();
      watchConsole(tab);
      let attempts = 0;
      tab.on("websocket", () => attempts++);
      await tab.goto(`${origin}/#token=${TOKEN}`);
      const waiting = tab.getByRole("region", { name: "Waiting for approval" });
      await waiting.waitFor();
      const requestId = await eventually(async () => {
        const id = await waiting.locator("[data-request-id]").getAttribute("data-request-id");
        expect(id).toBeTruthy();
        return id!;
      });
      await expect(waiting.locator(".approve-command").textContent()).resolves.toBe(
        `gateway devices approve ${requestId}`,
      );
      deviceId = (await waiting.locator("[data-device-id]").getAttribute("data-device-id"))!;
      expect(deviceId).toMatch(/^[0-9a-f]{64}$/);
      expect(await tab.getByRole("form", { name: "Sign in" }).count()).toBe(0);
      await tab.getByRole("status").filter({ hasText: "Waiting for approval" }).first().waitFor();
      await shot(tab, "waiting-for-approval");
      // It asks again by itself, and is still waiting, with the same request (no pile of new ones).
      await eventually(() => expect(attempts).toBeGreaterThanOrEqual(2), { timeoutMs: 6_000 });
      await waiting.waitFor();

      // The signed-in page lists the request; the command the waiting page shows approves it, and it continues.
      await page.getByRole("link", { name: "Pairing" }).click();
      const request = page.getByRole("region", { name: "Devices" }).locator(`tr[data-device-request="${requestId}"]`);
      await expect(request.textContent()).resolves.toContain(deviceId.slice(0, 8));
      const approved = await cli(["devices", "approve", requestId]);
      expect(approved.code, approved.stderr).toBe(0);
      await tab.getByText("Event-loop delay").waitFor();
      await tab.getByRole("status").filter({ hasText: "Connected" }).first().waitFor();
      await eventually(async () => expect(await request.count()).toBe(0));
    } finally {
      await remote.close();
    }

    // The paired device's token: rotated (shown once), revoked; then the device is removed.
    const paired = page.getByRole("region", { name: "Devices" }).locator(`tr[data-device="${deviceId}"]`);
    await paired.waitFor();
    const operator = createGatewayClient({ url: `ws://127.0.0.1:${port}`, token: TOKEN, reconnect: false });
    try {
      await paired.getByRole("button", { name: /^Rotate operator token/ }).click();
      await expect(page.locator(".rotated-token").textContent()).resolves.toMatch(/\S{16,}/);
      await paired.getByRole("button", { name: /^Revoke operator token/ }).click();
      await page.getByText(/operator token of .* is revoked/).waitFor();
      await paired.getByRole("button", { name: /^Remove device/ }).click();
      await eventually(async () => expect(await paired.count()).toBe(0));
      // Its new token is not shown any longer.
      await eventually(async () => expect(await page.locator(".rotated-token").count()).toBe(0));
      const { paired: left } = await operator.request("device.pair.list", {});
      expect(left.map((device) => device.deviceId)).not.toContain(deviceId);
      // This browser's own device stays, marked as such. Rotating its own token cuts its connection: it connects
      // again by itself (paired again on loopback), without asking to sign in.
      const own = page
        .getByRole("region", { name: "Devices" })
        .locator("tr[data-device]")
        .filter({ hasText: "this browser" });
      await own.waitFor();
      const ownId = (await own.getAttribute("data-device"))!;
      const tokensBefore = (await operator.request("device.pair.list", {})).paired.find((d) => d.deviceId === ownId);
      expect(tokensBefore).toBeDefined();
      await own.getByRole("button", { name: /^Rotate operator token/ }).click();
      await page.getByText("Reconnecting").or(page.getByText("Connecting…")).first().waitFor();
      await page.getByRole("region", { name: "Devices" }).locator(`tr[data-device="${ownId}"]`).waitFor();
      await page.getByRole("status").filter({ hasText: "Connected" }).first().waitFor();
      expect(await page.getByRole("form", { name: "Sign in" }).count()).toBe(0);
    } finally {
      operator.close();
    }
  });

  it("pairing: devices that ask through the proxy are approved and rejected from the page", async () => {
    // Node's WebSocket cannot set headers: `ws` can, like a proxy in front of the gateway would.
    class Proxied extends WebSocket {
      constructor(url: string) {
        super(url, { headers: { "x-forwarded-for": "203.0.113.10" } });
      }
    }
    const ask = async (displayName: string) => {
      const device = await loadDeviceIdentity(createMemoryKeyStore());
      const asking = createGatewayClient({
        url: `ws://127.0.0.1:${port}`,
        token: TOKEN,
        reconnect: false,
        device,
        client: { id: "cli", mode: "cli", displayName, version: "1.0.0", platform: "linux" },
        WebSocket: Proxied as unknown as WebSocketConstructor,
      });
      await expect(asking.ready()).rejects.toMatchObject({ detailCode: "PAIRING_REQUIRED" });
      asking.close();
      return device.deviceId;
    };
    const welcome = await ask("welcome cli");
    const unwelcome = await ask("unwelcome cli");
    const devices = page.getByRole("region", { name: "Devices" });
    const requestOf = (name: string) => devices.locator("tr[data-device-request]").filter({ hasText: name });
    await requestOf("unwelcome cli").waitFor();
    await requestOf("welcome cli").first().waitFor();
    await shot(page, "pairing-devices");
    await requestOf("unwelcome cli")
      .getByRole("button", { name: /^Reject device/ })
      .click();
    await eventually(async () => expect(await requestOf("unwelcome cli").count()).toBe(0));
    await requestOf("welcome cli")
      .getByRole("button", { name: /^Approve device/ })
      .click();
    await devices.locator(`tr[data-device="${welcome}"]`).waitFor();
    const operator = createGatewayClient({ url: `ws://127.0.0.1:${port}`, token: TOKEN, reconnect: false });
    try {
      const listed = await operator.request("device.pair.list", {});
      expect(listed.pending).toEqual([]);
      expect(listed.paired.map((entry) => entry.deviceId)).toContain(welcome);
      expect(listed.paired.map((entry) => entry.deviceId)).not.toContain(unwelcome);
    } finally {
      operator.close();
    }
  });

  it("nodes: a node's commands are approved on the Pairing page, then one is invoked with JSON params", async () => {
    const device = await loadDeviceIdentity(createMemoryKeyStore());
    const node = createNodeClient({
      url: `ws://127.0.0.1:${port}`,
      token: TOKEN,
      reconnect: false,
      device,
      caps: ["system"],
      commands: {
        "system.which": (params) => ({
          bins: Object.fromEntries((params as { bins: string[] }).bins.map((bin) => [bin, `/usr/bin/${bin}`])),
        }),
      },
      client: { displayName: "browser-test node", version: "1.0.0" },
    });
    try {
      await node.ready();
      const nodes = page.getByRole("region", { name: "Nodes" });
      const request = nodes.locator("tr[data-node-request]");
      await request.waitFor();
      await expect(request.textContent()).resolves.toContain("system.which");
      await request.getByRole("button", { name: /^Approve node/ }).click();
      const row = nodes.locator(`tr[data-node="${device.deviceId}"]`);
      await eventually(async () => expect(await row.textContent()).toMatch(/connected.*paired.*system\.which/));
      const form = page.getByRole("form", { name: "Invoke a command" });
      await form.getByLabel("Node").selectOption(device.deviceId);
      await form.getByLabel("Command").selectOption("system.which");
      // Params that are not JSON are refused at the form, and nothing is sent.
      await form.getByLabel("Params (JSON)").fill("{ bins: ");
      await form.getByRole("button", { name: "Invoke" }).click();
      await form.getByRole("alert").filter({ hasText: "not JSON" }).waitFor();
      await form.getByLabel("Params (JSON)").fill('{ "bins": ["sh"] }');
      await form.getByRole("button", { name: "Invoke" }).click();
      await eventually(async () =>
        expect(await page.locator(".invoke-output").textContent()).toContain('"sh": "/usr/bin/sh"'),
      );
      expect(await form.getByRole("alert").count()).toBe(0);
      await shot(page, "pairing-nodes");
    } finally {
      node.close();
    }
  });

  it("debug: the RPC console answers", async () => {
    await page.getByRole("link", { name: "Debug" }).click();
    await page.getByLabel("Method").fill("status");
    await page.getByRole("button", { name: "Call" }).click();
    await eventually(async () =>
      expect(await page.locator(".rpc-output").textContent()).toContain('"version": "9.9.9-test"'),
    );
    await shot(page, "debug");
    // The dark theme, chosen in the header and kept, passes the same checks.
    await page.getByRole("button", { name: "Theme: system" }).click();
    await page.getByRole("button", { name: "Theme: light" }).click();
    await page.getByRole("link", { name: "Overview" }).click();
    await page.getByText("Event-loop delay").waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await shot(page, "overview-dark");
    await page.getByRole("button", { name: "Theme: dark" }).click();
  });

  it("rides out a gateway restart: stays usable, keeps the draft, refreshes when it is back", async () => {
    await page.getByRole("link", { name: "Chat" }).click();
    const composer = page.getByLabel("Message", { exact: true });
    await composer.waitFor();
    gatewayDown = true;
    await gateway.close();
    await page.getByText("Reconnecting").waitFor();
    await composer.fill("a draft typed while the gateway was away");
    await startGateway();
    await page.getByText("Connected").first().waitFor({ timeout: 15_000 });
    gatewayDown = false;
    expect(await composer.inputValue()).toBe("a draft typed while the gateway was away");
    // A reload keeps it too.
    await page.reload();
    await page.getByText("Connected").first().waitFor();
    expect(await page.getByLabel("Message", { exact: true }).inputValue()).toBe(
      "a draft typed while the gateway was away",
    );
    await page.getByLabel("Message", { exact: true }).press("Enter");
    await page
      .locator(".bubble.assistant:not(.streaming)")
      .filter({ hasText: "a draft typed while the gateway was away" })
      .waitFor();
  });

  it("WebChat at /chat: a chat page that asks only for read and write", async () => {
    const tab = await context.newPage();
    watchConsole(tab);
    await tab.goto(`${origin}/chat`);
    await tab.getByText("Connected").first().waitFor();
    const composer = tab.getByLabel("Message", { exact: true });
    await composer.fill("hello from webchat");
    await composer.press("Enter");
    await tab.locator(".bubble.assistant:not(.streaming)").filter({ hasText: "hello from webchat" }).last().waitFor();
    await shot(tab, "webchat");
    // What the gateway granted it: read and write, not the admin scopes the token would allow.
    const other = createGatewayClient({ url: `ws://127.0.0.1:${port}`, token: TOKEN, reconnect: false });
    try {
      const entry = await eventually(async () => {
        const found = (await other.request("system-presence")).find((item) => item.mode === "webchat");
        expect(found).toBeDefined();
        return found!;
      });
      expect(entry.scopes?.sort()).toEqual(["operator.read", "operator.write"]);
    } finally {
      other.close();
    }
    await tab.close();
  });

  it("<gateway-chat> embedded in another site (an allowed origin): sign in inside it, chat", async () => {
    const tab = await context.newPage();
    watchConsole(tab);
    await tab.goto(embedOrigin);
    const element = tab.locator("gateway-chat");
    await element.getByRole("form", { name: "Sign in" }).waitFor();
    await element.getByLabel("Secret").fill(TOKEN);
    await element.getByRole("button", { name: "Connect" }).click();
    await element.getByText("Connected").waitFor();
    const composer = element.getByLabel("Message", { exact: true });
    await composer.fill("hello from an embedding site");
    await composer.press("Enter");
    await element
      .locator(".bubble.assistant:not(.streaming)")
      .filter({ hasText: "hello from an embedding site" })
      .last()
      .waitFor();
    await shot(tab, "embedded");
    // The embedding page's styles and the element's stay apart.
    expect(await tab.evaluate(() => document.styleSheets.length)).toBe(0);
    await tab.close();
  });

  it("works from a plain-HTTP address that is not local, where the browser withholds secure-context APIs", async () => {
    const tab = await context.newPage();
    watchConsole(tab);
    await tab.goto(`http://gateway.lan:${port}/chat#token=${TOKEN}`);
    expect(await tab.evaluate(() => window.isSecureContext)).toBe(false);
    expect(await tab.evaluate(() => typeof crypto.randomUUID)).toBe("undefined");
    await tab.getByText("Connected").first().waitFor();
    const composer = tab.getByLabel("Message", { exact: true });
    await composer.fill("sent from a LAN address");
    await composer.press("Enter");
    await tab
      .locator(".bubble.assistant:not(.streaming)")
      .filter({ hasText: "sent from a LAN address" })
      .last()
      .waitFor();
    await tab.close();
  });

  it("serves its files with a strict CSP, long-lived caching for hashed assets, gzip and the front door's rules", async () => {
    const index = await fetch(`${origin}/`, { headers: { "accept-encoding": "gzip" } });
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("content-security-policy")).toMatch(
      /script-src 'self';.*connect-src 'self'.*frame-ancestors 'none'/,
    );
    expect(index.headers.get("x-frame-options")).toBe("DENY");
    const html = await index.text();
    expect(html).toContain('<meta name="gateway-ws-path" content="/">');
    expect(html).not.toMatch(/<script>(?!<)/); // no inline script
    const script = /src="(assets\/main-[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${origin}/${script}`, { headers: { "accept-encoding": "gzip" } });
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("content-encoding")).toBe("gzip");
    const etag = asset.headers.get("etag")!;
    const again = await fetch(`${origin}/${script}`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect((await fetch(`${origin}/assets/nothing-here.js`)).status).toBe(404);
    expect((await fetch(`${origin}/assets/..%2f..%2fgateway.json5`)).status).toBe(404);
    // Another site's page may not load the UI's files (nor open its WebSocket), and a rebinding name is refused.
    expect(await statusOf(`/${script}`, { origin: "https://evil.example" })).toBe(403);
    expect(await statusOf("/", { host: `rebind.example:${port}` })).toBe(403);
    expect(await statusOf(`/${script}`, { origin })).toBe(200);
    const chat = await fetch(`${origin}/chat`);
    expect(chat.headers.get("content-type")).toBe("text/html; charset=utf-8");
  });

  it("printed nothing to the browser console but what it was expected to", () => {
    expect(consoleProblems).toEqual([]);
  });

  it("has no serious accessibility problems on any page (axe-core)", () => {
    expect(accessibilityProblems).toEqual([]);
  });
});
