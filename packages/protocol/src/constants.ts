// @gateway/protocol/constants — the protocol's plain constants, without TypeBox or any schema: what a browser client
// needs at run time (its types come from the main entry, erased at build time).
export { ErrorCodes } from "./errors-constants.js";
export { SIDE_EFFECTING_METHODS } from "./side-effecting.js";
export { PROTOCOL_VERSION, SUPPORTED_PROTOCOL_RANGE } from "./version.js";
