import { fileURLToPath } from "node:url";
import { buildControlUi } from "@gateway/control-ui/build";
import { defineConfig } from "tsup";

// The app ships as one bundle: resolving and compiling hundreds of dependency modules dominated start-up time.
// pino-pretty stays external: it is loaded only in a terminal, by name, at run time; so does pi (the agent library,
// ~130 MB of modules), imported only when the pi backend runs its first turn.
export default defineConfig({
  entry: {
    main: "src/main.ts",
    gateway: "src/gateway.ts",
    cli: "src/cli.ts",
    "channel-telegram": "src/channel-telegram.ts",
    "channel-discord": "src/channel-discord.ts",
    "channel-whatsapp": "src/channel-whatsapp.ts",
    "channel-slack": "src/channel-slack.ts",
  },
  format: ["esm"],
  target: "node22",
  platform: "node",
  clean: true,
  sourcemap: true,
  splitting: false,
  // Everything but these two is bundled (tsup's noExternal wins over external, so the regex leaves them out).
  noExternal: [/^(?!pino-pretty$|@earendil-works\/pi-coding-agent$)/],
  external: ["pino-pretty", "@earendil-works/pi-coding-agent"],
  // Our packages are bundled from their sources (the `@gateway/source` condition of their exports), so the app needs no
  // package to be built first: `npm start` on a fresh clone runs this one esbuild step.
  esbuildOptions(options) {
    options.conditions = ["@gateway/source"];
  },
  // The Control UI ships beside the bundle (dist/ui), where @gateway/control-ui's controlUiRoot() looks first.
  async onSuccess() {
    await buildControlUi(fileURLToPath(new URL("./dist/ui/", import.meta.url)));
  },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __gatewayCreateRequire } from 'node:module'; const require = __gatewayCreateRequire(import.meta.url);",
  },
});
