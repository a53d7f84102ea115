// A fake `tailscale` CLI for tests: records each call's arguments (calls.jsonl in its directory), keeps a serve
// config like tailscaled does (serve.json), and prints what the real CLI prints (the fixtures in src/__fixtures__).
// scenario.json in its directory picks the situation: { backend: "Running" | "NeedsLogin" | "down",
// funnel: false (no Funnel attribute), denied: true (an operator-less user), serve: <initial serve config> }.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [stateDir, ...args] = process.argv.slice(2);
const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "__fixtures__");
const read = (path, fallback) => (existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : fallback);
const scenario = read(join(stateDir, "scenario.json"), {});
const servePath = join(stateDir, "serve.json");
appendFileSync(join(stateDir, "calls.jsonl"), `${JSON.stringify(args)}\n`);

const fail = (message, code = 1) => {
  process.stderr.write(`${message}\n`);
  process.exit(code);
};
const status = () => {
  const base = JSON.parse(
    readFileSync(
      join(fixtures, scenario.backend === "NeedsLogin" ? "status-needs-login.json" : "status-running.json"),
      "utf8",
    ),
  );
  if (scenario.funnel === false && base.Self) {
    base.Self.Capabilities = base.Self.Capabilities.filter((cap) => !cap.includes("funnel"));
    base.Self.CapMap = { HTTPS: null };
  }
  return base;
};
const DNS = "gateway-box.tail1234.ts.net";
const serveConfig = () => read(servePath, scenario.serve ?? {});

if (scenario.backend === "down" && args[0] !== "version")
  fail("failed to connect to local tailscaled; it doesn't appear to be running (sudo systemctl start tailscaled ?)");

const [command, ...rest] = args;
if (command === "version") {
  process.stdout.write("1.76.6\n  tailscale commit: abcdef0123456789\n  go version: go1.23.2\n");
} else if (command === "status" && rest.includes("--json")) {
  process.stdout.write(`${JSON.stringify(status(), null, 2)}\n`);
} else if ((command === "serve" || command === "funnel") && rest[0] === "status") {
  process.stdout.write(`${JSON.stringify(serveConfig(), null, 2)}\n`);
} else if ((command === "serve" || command === "funnel") && rest.at(-1) === "off") {
  if (scenario.denied) fail(`Access denied: serve config denied`);
  const config = serveConfig();
  delete config.Web?.[`${DNS}:443`];
  delete config.TCP?.["443"];
  delete config.AllowFunnel?.[`${DNS}:443`];
  writeFileSync(servePath, JSON.stringify(config));
} else if (command === "serve" || command === "funnel") {
  if (scenario.denied)
    fail("Access denied: serve config denied\n\nUse 'sudo tailscale serve' or 'sudo tailscale set --operator=$USER'");
  if (command === "funnel" && scenario.funnel === false)
    fail('Funnel not available; "funnel" node attribute not set. See https://tailscale.com/s/no-funnel.');
  const target = rest.filter((arg) => !arg.startsWith("--")).at(-1);
  if (!target) fail("error: missing target");
  const proxy = /^\d+$/.test(target) ? `http://127.0.0.1:${target}` : target;
  const config = serveConfig();
  config.TCP = { ...config.TCP, 443: { HTTPS: true } };
  config.Web = { ...config.Web, [`${DNS}:443`]: { Handlers: { "/": { Proxy: proxy } } } };
  if (command === "funnel") config.AllowFunnel = { ...config.AllowFunnel, [`${DNS}:443`]: true };
  writeFileSync(servePath, JSON.stringify(config));
  process.stdout.write(
    `Available ${command === "funnel" ? "on the internet" : "within your tailnet"}:\n\nhttps://${DNS}/\n|-- proxy ${proxy}\n\n${command === "funnel" ? "Funnel" : "Serve"} started and running in the background.\nTo disable the proxy, run: tailscale ${command} --https=443 off\n`,
  );
} else if (command === "whois" && rest.includes("--json")) {
  const ip = rest.at(-1);
  if (ip !== "100.90.80.70") fail(`no match for IP:port ${ip}`);
  process.stdout.write(readFileSync(join(fixtures, "whois.json"), "utf8"));
} else {
  fail(`unknown command ${JSON.stringify(args)}`);
}
