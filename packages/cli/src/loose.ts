/**
 * A payload as another implementation of the protocol may send it: every field possibly missing (the reference's
 * `health` has no `gateway` block, its `status` names its version `runtimeVersion` and has no `listen`). Renderers
 * read through this type so a field that is absent drops its row instead of crashing the command.
 */
export type Loose<T> =
  T extends ReadonlyArray<infer Item>
    ? ReadonlyArray<Loose<Item>> | undefined
    : T extends object
      ? { [Key in keyof T]?: Loose<T[Key]> }
      : T | undefined;

/** The value when it is a finite number. */
export function numberOr(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The value when it is a non-empty string. */
export function stringOr(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The strings of the value when it is an array (anything else, and non-strings in it, count as none). */
export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** A table row only when its value is known. */
export function row(label: string, value: string | undefined): string[][] {
  return value === undefined ? [] : [[label, value]];
}
