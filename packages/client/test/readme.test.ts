// The README's example is runnable: run it against a real gateway and compare what it prints.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runReadmeExample } from "@gateway/vitest-preset/readme-example";
import { expect, it } from "vitest";
import { createGatewayServer } from "../../server/src/index.js";

it("runs the README example against a gateway", async () => {
  const server = createGatewayServer({
    port: 0,
    auth: { mode: "token", token: "readme-token-0123456789" },
    logging: { level: "silent", stdout: false, file: false },
    version: "1.2.3",
  });
  const { url } = await server.listen();
  try {
    const result = await runReadmeExample(join(dirname(fileURLToPath(import.meta.url)), ".."), {
      GATEWAY_URL: url,
      GATEWAY_TOKEN: "readme-token-0123456789",
    });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim().split("\n")).toEqual([
      "connected to gateway 1.2.3 as operator",
      "1 connection(s), warnings: 0",
    ]);
  } finally {
    await server.close();
  }
});
