import { type TSchema, Type } from "@sinclair/typebox";

/** A string with at least one character (most identifiers on the wire). */
export const NonEmptyString = (options: { maxLength?: number; description?: string } = {}) =>
  Type.String({ minLength: 1, ...options });

/** A non-negative integer (timestamps in ms, counters, sizes). */
export const NonNegativeInteger = (options: { maximum?: number; description?: string } = {}) =>
  Type.Integer({ minimum: 0, ...options });

/** Epoch milliseconds. */
export const TimestampMs = () => Type.Integer({ minimum: 0, description: "Unix epoch milliseconds" });

/** `T | null` — the reference encodes nullable fields as `anyOf [T, null]`. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A string map (`{ [key: string]: T }`), encoded as `patternProperties` like the reference schema. */
export const StringMap = <T extends TSchema>(value: T) => Type.Record(Type.String(), value);

/** An empty params object: the method takes no parameters (unknown fields are ignored). */
export const NoParams = () => Type.Object({});

/** The result of a method that only acknowledges. */
export const OkResult = () => Type.Object({ ok: Type.Literal(true) }, { additionalProperties: false });
