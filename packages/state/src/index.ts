// @gateway/state — the public surface.
export {
  type AtomicWriteOptions,
  removeStaleTempFiles,
  removeStaleTempFilesSync,
  writeFileAtomic,
  writeFileAtomicSync,
} from "./atomic-write.js";
export { parseJsonLines } from "./json-lines.js";
