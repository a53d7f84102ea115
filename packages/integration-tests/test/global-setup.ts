// Under CI the reference implementation is installed once, before any test file runs (its tests here must not skip,
// and parallel test files must not each start an install). Elsewhere its tests skip loudly when it is missing.
import { ensureReference } from "../../../tooling/interop/reference.mjs";

export default function setup(): void {
  if (process.env.CI === "true") ensureReference();
}
