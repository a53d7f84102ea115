/** The pinned reference version (the same release as the `@openclaw/gateway-protocol` schema we check against). */
export const REFERENCE_VERSION: string;
/** Paths inside an installed reference. */
export interface ReferencePaths {
  dir: string;
  pkg: string;
  cli: string;
  controlUi: string;
}
/** Where the reference is installed: `$GATEWAY_INTEROP_CACHE` or `~/.cache/gateway-interop`, one dir per version. */
export function referenceDir(version?: string): string;
export function referencePaths(dir?: string): ReferencePaths;
/** Install the reference when it is not there yet (progress on stderr); resolve to its paths. */
export function ensureReference(options?: { version?: string; log?: (line: string) => void }): ReferencePaths;
/** The isolated, offline environment the reference's CLI runs in. */
export function referenceEnv(home: string, extra?: Record<string, string>): Record<string, string>;
