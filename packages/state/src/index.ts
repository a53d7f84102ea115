// @gateway/state — the public surface.
export {
  type AtomicWriteOptions,
  removeStaleTempFiles,
  removeStaleTempFilesSync,
  writeFileAtomic,
  writeFileAtomicSync,
} from "./atomic-write.js";
export { JsonLinesAppender, type JsonLinesAppenderOptions, parseJsonLines } from "./json-lines.js";
export { JsonStateFile, type JsonStateFileOptions, type StateFileProblem } from "./json-state-file.js";
export { processAlive } from "./process-alive.js";
export { SerialWriter } from "./serial-writer.js";
export { StateError, type StateErrorCode } from "./state-error.js";
export {
  acquireStateLock,
  readStateLock,
  STATE_LOCK_FILE,
  type StateLock,
  type StateLockInfo,
} from "./state-lock.js";
