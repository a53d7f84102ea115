// `gateway channels login` through the real binary against a gateway whose channel logs in by QR (a test plugin):
// the QR is rendered in the terminal, the command waits until the phone "scanned", and says the account is linked.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { qrLoginPluginPath } from "@gateway/fakes";
import { createGateway } from "@gateway/gateway";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runProcess } from "@gateway/vitest-preset/run-process";
import { afterEach, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, "..", "dist", "main.js");
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it("channels login renders the QR, waits for the scan, and reports the account linked", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "gateway-login-"));
  const linkDir = join(stateDir, "links");
  const token = "login-test-token-0123456789";
  writeFileSync(
    join(stateDir, "gateway.json5"),
    JSON.stringify({
      gateway: { port: 0, auth: { mode: "token", token } },
      plugins: [qrLoginPluginPath],
      channels: { qrchat: { dir: linkDir } },
    }),
  );
  const gateway = createGateway({ stateDir, logging: { stdout: false } });
  cleanups.push(async () => {
    await gateway.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  const { url } = await gateway.listen();
  // The phone scans once the login has shown its QR (the plugin makes its dir then), however slow the CLI starts.
  const scan = setInterval(() => {
    if (!existsSync(linkDir)) return;
    clearInterval(scan);
    writeFileSync(join(linkDir, "scanned"), "");
  }, 20);
  cleanups.push(async () => clearInterval(scan));
  const result = (await runProcess(process.execPath, [main, "channels", "login", "--url", url, "--token", token], {
    env: { GATEWAY_TOKEN: "", GATEWAY_URL: "" },
  })) as { code: number; stdout: string; stderr: string };
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/[▀▄█]/);
  expect(result.stdout).toContain("Linked devices → Link a device");
  expect(result.stdout).toMatch(/✔ linked/);
});
