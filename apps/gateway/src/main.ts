// The `gateway` command. Until the server package lands it reports its version and what it speaks.
import { PROTOCOL_VERSION } from "@gateway/protocol";
import packageJson from "../package.json" with { type: "json" };

console.log(`gateway ${packageJson.version} (protocol v${PROTOCOL_VERSION}, Node ${process.versions.node})`);
