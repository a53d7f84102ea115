// The entry pi loads (`export { default } from "@gateway/pi-extension/from-env"`): the one place this package reads
// the environment it runs in (GATEWAY_ROLE, GATEWAY_REDIS_URL, …); the library itself takes options.
import { createGatewayExtension, optionsFromEnv } from "./index.js";

export default createGatewayExtension(optionsFromEnv(process.env));
