import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import type { ValueError } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import { type EventName, EventTable } from "./events.js";
import { type MethodName, type MethodParams, MethodTable } from "./method-table.js";

const compiledCheckers = new WeakMap<TSchema, TypeCheck<TSchema>>();

/**
 * The compiled checker of a schema. Each schema is compiled once, on first use, and cached for the life of the
 * process; never per message.
 */
export function compiledChecker<T extends TSchema>(schema: T): TypeCheck<T> {
  let checker = compiledCheckers.get(schema);
  if (!checker) {
    checker = TypeCompiler.Compile(schema);
    compiledCheckers.set(schema, checker);
  }
  return checker as TypeCheck<T>;
}

/** One reason a value does not match its schema. `path` is a JSON pointer (`/client/id`), `""` for the root. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** The outcome of a validation: the typed value, or every issue found (capped). */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

const MAX_ISSUES = 10;

/** Validate `value` against `schema` with its compiled checker. */
export function validate<T extends TSchema>(schema: T, value: unknown): ValidationResult<Static<T>> {
  const checker = compiledChecker(schema);
  if (checker.Check(value)) return { ok: true, value: value as Static<T> };
  return { ok: false, issues: collectIssues(checker.Errors(value)) };
}

/**
 * Validate `value` and remove what its schema does not name: the protocol's "unknown fields are ignored", without
 * letting them through to a handler (a handler that spreads its params must never receive `sessionId` or `state`
 * because a client added them). `value` is changed in place (params are parsed fresh from each frame).
 */
export function validateStrict<T extends TSchema>(schema: T, value: unknown): ValidationResult<Static<T>> {
  const result = validate(schema, value);
  if (!result.ok) return result;
  if (typeof value !== "object" || value === null || Object.keys(value).length === 0) return result;
  return { ok: true, value: Value.Clean(schema, value) as Static<T> };
}

/**
 * Issues of a failed check. A failed union ("Expected union value") is replaced by the issues of the branch that
 * matched best (the one whose first issue is deepest), so the message names the real field, not the union.
 */
function collectIssues(errors: Iterable<ValueError>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const error of errors) {
    const branches = error.errors.map((branch) => collectIssues(branch));
    const best = branches
      .filter((branch) => branch.length > 0)
      .sort((a, b) => depth(b[0]!.path) - depth(a[0]!.path) || a.length - b.length)[0];
    for (const issue of best ?? [{ path: error.path, message: error.message }]) {
      // The first reason per field is the useful one ("required", not "required" then "expected string").
      if (!issues.some((existing) => existing.path === issue.path)) issues.push(issue);
    }
    if (issues.length >= MAX_ISSUES) return issues.slice(0, MAX_ISSUES);
  }
  return issues;
}

function depth(path: string): number {
  return path.split("/").length;
}

/** One line naming what failed, e.g. `params/to: Expected string length greater or equal to 1`. */
export function describeIssues(issues: readonly ValidationIssue[], root = "params"): string {
  return issues.map((issue) => `${root}${issue.path || ""}: ${issue.message}`).join("; ");
}

/** Validate the params of a core method. A missing `params` is treated as `{}`. */
export function validateParams<M extends MethodName>(method: M, params: unknown): ValidationResult<MethodParams<M>> {
  return validate(MethodTable[method].params, params ?? {}) as ValidationResult<MethodParams<M>>;
}

/** Validate a method's (final) result; servers use it in tests and in debug mode. */
export function validateResult(method: MethodName, result: unknown): ValidationResult<unknown> {
  return validate(MethodTable[method].result, result);
}

/** Validate an event payload against the event table. */
export function validateEventPayload(event: EventName, payload: unknown): ValidationResult<unknown> {
  return validate(EventTable[event].payload, payload);
}
