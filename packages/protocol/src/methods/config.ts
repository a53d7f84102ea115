import { type Static, Type } from "@sinclair/typebox";
import { NonEmptyString, NonNegativeInteger, StringMap } from "../primitives.js";

/** Result of `config.get`. Secrets in `config` are redacted. `hash` is null while no config file exists. */
export const ConfigGetResult = Type.Object(
  {
    path: NonEmptyString(),
    exists: Type.Boolean(),
    hash: Type.Union([NonEmptyString(), Type.Null()]),
    config: Type.Unknown(),
    raw: Type.Optional(Type.String({ description: "The file's text with secrets redacted" })),
  },
  { additionalProperties: false },
);
export type ConfigGetResult = Static<typeof ConfigGetResult>;

/** Params of `config.set`: replace the whole file. `baseHash` is required once a config file exists. */
export const ConfigSetParams = Type.Object({
  raw: NonEmptyString(),
  baseHash: Type.Optional(NonEmptyString()),
});
export type ConfigSetParams = Static<typeof ConfigSetParams>;

/** Params of `config.patch`: a JSON5 merge patch (objects merge, `null` deletes). */
export const ConfigPatchParams = Type.Object({
  raw: NonEmptyString(),
  baseHash: Type.Optional(NonEmptyString()),
  note: Type.Optional(Type.String()),
  restartDelayMs: Type.Optional(NonNegativeInteger()),
});
export type ConfigPatchParams = Static<typeof ConfigPatchParams>;

/** Params of `config.apply`: replace the file and apply it now (restarting if a restart-only key changed). */
export const ConfigApplyParams = Type.Object({
  raw: NonEmptyString(),
  baseHash: Type.Optional(NonEmptyString()),
  note: Type.Optional(Type.String()),
  restartDelayMs: Type.Optional(NonNegativeInteger()),
});
export type ConfigApplyParams = Static<typeof ConfigApplyParams>;

/** Result of `config.set`, `config.patch` and `config.apply`. */
export const ConfigWriteResult = Type.Object(
  {
    ok: Type.Literal(true),
    path: NonEmptyString(),
    hash: NonEmptyString(),
    changedPaths: Type.Array(Type.String()),
    restartRequired: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ConfigWriteResult = Static<typeof ConfigWriteResult>;

/** A UI hint for one config path. */
export const ConfigUiHint = Type.Object(
  {
    label: Type.Optional(Type.String()),
    help: Type.Optional(Type.String()),
    docsUrl: Type.Optional(Type.String()),
    tags: Type.Optional(Type.Array(Type.String())),
    group: Type.Optional(Type.String()),
    order: Type.Optional(Type.Integer()),
    advanced: Type.Optional(Type.Boolean()),
    sensitive: Type.Optional(Type.Boolean()),
    placeholder: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Result of `config.schema`: the JSON Schema of the whole config and UI hints keyed by path. */
export const ConfigSchemaResponse = Type.Object(
  {
    schema: Type.Unknown(),
    uiHints: StringMap(ConfigUiHint),
    version: NonEmptyString(),
    generatedAt: NonEmptyString(),
  },
  { additionalProperties: false },
);
export type ConfigSchemaResponse = Static<typeof ConfigSchemaResponse>;

/** Payload of `config.changed` (ours): sent after a config change was applied. */
export const ConfigChangedEvent = Type.Object(
  {
    hash: NonEmptyString(),
    changedPaths: Type.Array(Type.String()),
    /** Paths applied in place. */
    appliedHot: Type.Array(Type.String()),
    /** Whether the listener restarted in-process to apply restart-only paths (port, bind, auth mode…). */
    restarted: Type.Boolean(),
    /** Restart-only paths left for the next restart (reload mode `hot`). */
    restartRequired: Type.Array(Type.String()),
    source: Type.Union([Type.Literal("file"), Type.Literal("api")]),
  },
  { additionalProperties: false },
);
export type ConfigChangedEvent = Static<typeof ConfigChangedEvent>;

/** Payload of `config.error` (ours): an edit of the config file was refused; the last good config keeps running. */
export const ConfigErrorEvent = Type.Object(
  {
    path: NonEmptyString(),
    ts: Type.Integer({ minimum: 0 }),
    issues: Type.Array(
      Type.Object(
        { path: Type.String(), message: Type.String(), hint: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ConfigErrorEvent = Static<typeof ConfigErrorEvent>;

/** Params of `config.schema.lookup`: a dotted config path (`gateway.auth`, `channels.telegram`). */
export const ConfigSchemaLookupParams = Type.Object({
  path: Type.String({ minLength: 1, maxLength: 1024, pattern: "^[A-Za-z0-9_./\\[\\]\\-*]+$" }),
});
export type ConfigSchemaLookupParams = Static<typeof ConfigSchemaLookupParams>;

/** Result of `config.schema.lookup`: the schema at that path and its direct children. */
export const ConfigSchemaLookupResult = Type.Object(
  {
    path: NonEmptyString(),
    schema: Type.Unknown(),
    hint: Type.Optional(ConfigUiHint),
    children: Type.Array(
      Type.Object(
        {
          key: NonEmptyString(),
          path: NonEmptyString(),
          type: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
          required: Type.Boolean(),
          hasChildren: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ConfigSchemaLookupResult = Static<typeof ConfigSchemaLookupResult>;
