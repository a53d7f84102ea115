// The README's example is runnable: run it against the test Redis and compare what it prints.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { runReadmeExample } from "@gateway/vitest-preset/readme-example";
// @ts-expect-error -- a plain .mjs helper of the private vitest preset
import { useRedis } from "@gateway/vitest-preset/redis";
import { skipUnlessAvailable } from "@gateway/vitest-preset/wait";
import { expect, it } from "vitest";

it("runs the README example", async (context) => {
  const redis = await useRedis();
  skipUnlessAvailable(redis !== undefined, "Redis (REDIS_URL, 127.0.0.1:6379 or a redis-server binary)", () =>
    context.skip(),
  );
  const result = await runReadmeExample(join(dirname(fileURLToPath(import.meta.url)), ".."), { REDIS_URL: redis.url });
  await redis.stop();
  expect(result.stderr).toBe("");
  expect(result.stdout.trim().split("\n")).toEqual([
    expect.stringMatching(/^instance-1 runs the account \(fencing token \d+\)$/),
    expect.stringMatching(/^instance-2 took it over \(token \d+, larger: true\)$/),
  ]);
});
