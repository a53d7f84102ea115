import { type Static, Type } from "@sinclair/typebox";
import { StateVersion } from "./frames.js";
import { HealthSnapshot } from "./health.js";
import { PresenceEntry } from "./presence.js";
import { NonEmptyString, NonNegativeInteger, StringMap, TimestampMs } from "./primitives.js";

/** Who is connecting. `id` and `mode` are free strings here (the reference lists known values; we accept any). */
export const ClientInfo = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  displayName: Type.Optional(NonEmptyString()),
  version: NonEmptyString(),
  buildId: Type.Optional(NonEmptyString({ maxLength: 96 })),
  platform: NonEmptyString(),
  deviceFamily: Type.Optional(NonEmptyString()),
  modelIdentifier: Type.Optional(NonEmptyString()),
  timeZone: Type.Optional(NonEmptyString({ maxLength: 64 })),
  mode: Type.String({ minLength: 1, maxLength: 64 }),
  instanceId: Type.Optional(NonEmptyString()),
});
export type ClientInfo = Static<typeof ClientInfo>;

/** Signed device identity presented in `connect` (Ed25519 over the challenge nonce). */
export const DeviceAuth = Type.Object({
  id: NonEmptyString(),
  publicKey: NonEmptyString(),
  signature: NonEmptyString(),
  signedAt: NonNegativeInteger(),
  nonce: NonEmptyString(),
});
export type DeviceAuth = Static<typeof DeviceAuth>;

/** Shared-secret credentials presented in `connect`. */
export const ConnectAuth = Type.Object({
  token: Type.Optional(Type.String()),
  bootstrapToken: Type.Optional(Type.String()),
  deviceToken: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
});
export type ConnectAuth = Static<typeof ConnectAuth>;

/** Params of `connect`, the first frame of every connection. */
export const ConnectParams = Type.Object({
  minProtocol: Type.Integer({ minimum: 1 }),
  maxProtocol: Type.Integer({ minimum: 1 }),
  client: ClientInfo,
  role: Type.Optional(Type.String({ minLength: 1, description: "operator (default) or node" })),
  scopes: Type.Optional(Type.Array(NonEmptyString())),
  caps: Type.Optional(Type.Array(NonEmptyString())),
  commands: Type.Optional(Type.Array(NonEmptyString())),
  permissions: Type.Optional(StringMap(Type.Boolean())),
  pathEnv: Type.Optional(Type.String()),
  auth: Type.Optional(ConnectAuth),
  device: Type.Optional(DeviceAuth),
  locale: Type.Optional(Type.String()),
  userAgent: Type.Optional(Type.String()),
});
export type ConnectParams = Static<typeof ConnectParams>;

/** Payload of `connect.challenge`, sent as soon as a socket opens. */
export const ConnectChallengeEvent = Type.Object(
  { nonce: NonEmptyString(), ts: TimestampMs() },
  { additionalProperties: false },
);
export type ConnectChallengeEvent = Static<typeof ConnectChallengeEvent>;

/** Defaults a client uses to address sessions. */
export const SessionDefaults = Type.Object(
  {
    defaultAgentId: NonEmptyString(),
    modelConfigured: Type.Optional(Type.Boolean()),
    mainKey: NonEmptyString(),
    mainSessionKey: NonEmptyString(),
    scope: Type.Optional(NonEmptyString()),
  },
  { additionalProperties: false },
);
export type SessionDefaults = Static<typeof SessionDefaults>;

/** Authentication modes of a gateway. */
export const AuthMode = Type.Union([Type.Literal("none"), Type.Literal("token"), Type.Literal("password")]);
export type AuthMode = Static<typeof AuthMode>;

/** The state a client starts from: presence, health and their versions. */
export const Snapshot = Type.Object(
  {
    presence: Type.Array(PresenceEntry),
    health: HealthSnapshot,
    stateVersion: StateVersion,
    uptimeMs: NonNegativeInteger(),
    configPath: Type.Optional(NonEmptyString()),
    stateDir: Type.Optional(NonEmptyString()),
    sessionDefaults: Type.Optional(SessionDefaults),
    authMode: Type.Optional(AuthMode),
  },
  { additionalProperties: false },
);
export type Snapshot = Static<typeof Snapshot>;

/** Limits the server enforces on this connection. */
export const ConnectionPolicy = Type.Object(
  {
    maxPayload: Type.Integer({ minimum: 1, description: "Largest inbound frame in bytes" }),
    maxBufferedBytes: Type.Integer({ minimum: 1, description: "Largest outbound backlog before 'slow consumer'" }),
    tickIntervalMs: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type ConnectionPolicy = Static<typeof ConnectionPolicy>;

/** The role and scopes the server granted, and a device token when one was issued. */
export const HelloAuth = Type.Object(
  {
    role: NonEmptyString(),
    scopes: Type.Array(NonEmptyString()),
    deviceToken: Type.Optional(NonEmptyString()),
    issuedAtMs: Type.Optional(TimestampMs()),
  },
  { additionalProperties: false },
);
export type HelloAuth = Static<typeof HelloAuth>;

/** Payload of a successful `connect`. */
export const HelloOk = Type.Object(
  {
    type: Type.Literal("hello-ok"),
    protocol: Type.Integer({ minimum: 1 }),
    server: Type.Object({ version: NonEmptyString(), connId: NonEmptyString() }, { additionalProperties: false }),
    features: Type.Object(
      {
        methods: Type.Array(NonEmptyString()),
        events: Type.Array(NonEmptyString()),
        /** Optional behaviours of the reference's a client may rely on; only those this gateway really has. */
        capabilities: Type.Optional(Type.Array(NonEmptyString())),
      },
      { additionalProperties: false },
    ),
    snapshot: Snapshot,
    pluginSurfaceUrls: Type.Optional(
      Type.Record(Type.String(), NonEmptyString(), {
        description: "Web surfaces the gateway hosts, by name (canvas: the canvas host), as the reference sends them",
      }),
    ),
    auth: HelloAuth,
    policy: ConnectionPolicy,
  },
  { additionalProperties: false },
);
export type HelloOk = Static<typeof HelloOk>;
