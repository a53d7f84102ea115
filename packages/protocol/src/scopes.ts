import { type Static, Type } from "@sinclair/typebox";

/** Scopes an operator connection may be granted. */
export const OperatorScope = Type.Union([
  Type.Literal("operator.read"),
  Type.Literal("operator.write"),
  Type.Literal("operator.admin"),
  Type.Literal("operator.approvals"),
  Type.Literal("operator.pairing"),
]);
export type OperatorScope = Static<typeof OperatorScope>;

/** Every operator scope, in the order they are usually shown. */
export const OPERATOR_SCOPES: readonly OperatorScope[] = [
  "operator.read",
  "operator.write",
  "operator.admin",
  "operator.approvals",
  "operator.pairing",
];

/** Connection roles. */
export const Role = Type.Union([Type.Literal("operator"), Type.Literal("node")]);
export type Role = Static<typeof Role>;

/**
 * What a method requires: an operator scope, the `node` role, or `dynamic` (the scope depends on the params; the
 * method table gives a function that resolves it). These are the values of the reference schema's `methods` map.
 */
export type MethodScope = OperatorScope | "node" | "dynamic";

/**
 * Whether a connection with `granted` scopes satisfies `required`.
 * `operator.admin` implies every operator scope, and `operator.write` implies `operator.read`.
 */
export function hasScope(granted: readonly string[], required: OperatorScope): boolean {
  if (granted.includes(required) || granted.includes("operator.admin")) return true;
  return required === "operator.read" && granted.includes("operator.write");
}
