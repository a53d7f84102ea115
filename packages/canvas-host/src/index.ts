// @gateway/canvas-host — the agent-editable web page, served on its own port with live reload.
export {
  type CanvasAddress,
  type CanvasHost,
  type CanvasHostOptions,
  createCanvasHost,
  REFERENCE_CANVAS_PATH,
} from "./canvas-host.js";
export { CanvasHostConfigSection, DEFAULT_CANVAS_PORT, DEFAULT_MAX_FILE_BYTES } from "./config.js";
export { contentTypeOf } from "./content-types.js";
export { injectLiveReload, LIVE_RELOAD_SCRIPT_PATH, LIVE_RELOAD_SOCKET_PATH } from "./live-reload.js";
export { type Resolution, resolveCanvasFile } from "./resolve-file.js";
