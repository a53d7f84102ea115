import { writeFileSync } from "node:fs";
import { createGateway } from "@gateway/gateway";

const stateDir = "/tmp/cui/state";
writeFileSync(
  `${stateDir}/gateway.json5`,
  JSON.stringify({
    gateway: { port: 18999, auth: { mode: "token", token: "control-ui-test-token-0123456789" } },
    agents: { defaults: { backend: "echo" } },
  }),
);
const gateway = createGateway({ stateDir, version: "9.9.9", logging: { stdout: false } });
const address = await gateway.listen();
console.log(address.url);
