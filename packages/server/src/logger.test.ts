import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { createLogger } from "./logger.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it("a level changed while running (logging.level is hot) reaches the log file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gateway-logger-"));
  dirs.push(dir);
  const file = join(dir, "gateway.log");
  const { logger, close } = createLogger({ level: "info", file, stdout: false });
  logger.debug("before the change");
  logger.level = "debug";
  logger.debug("after the change");
  logger.level = "warn";
  logger.info("muted again");
  close(); // flushes synchronously: the file is complete now
  const lines = readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line).msg);
  expect(lines).toEqual(["after the change"]);
});
