import { type Static, Type } from "@sinclair/typebox";
import { EventLoopHealth } from "../health.js";
import { NonEmptyString, NonNegativeInteger, Nullable, StringMap, TimestampMs } from "../primitives.js";

/** Params of `channels.status`. `probe` asks every account to check its platform connection now. */
export const ChannelsStatusParams = Type.Object({
  probe: Type.Optional(Type.Boolean()),
  timeoutMs: Type.Optional(NonNegativeInteger()),
  channel: Type.Optional(NonEmptyString()),
});
export type ChannelsStatusParams = Static<typeof ChannelsStatusParams>;

/** Status of one channel account. */
export const ChannelAccountStatus = Type.Object(
  {
    accountId: NonEmptyString(),
    name: Type.Optional(Type.String()),
    enabled: Type.Optional(Type.Boolean()),
    configured: Type.Optional(Type.Boolean()),
    linked: Type.Optional(Type.Boolean()),
    running: Type.Optional(Type.Boolean()),
    connected: Type.Optional(Type.Boolean()),
    reconnectAttempts: Type.Optional(NonNegativeInteger()),
    lastConnectedAt: Type.Optional(Nullable(TimestampMs())),
    lastError: Type.Optional(Nullable(Type.String())),
    healthState: Type.Optional(Type.String()),
    lastStartAt: Type.Optional(Nullable(TimestampMs())),
    lastStopAt: Type.Optional(Nullable(TimestampMs())),
    lastInboundAt: Type.Optional(Nullable(TimestampMs())),
    lastOutboundAt: Type.Optional(Nullable(TimestampMs())),
    lastProbeAt: Type.Optional(Nullable(TimestampMs())),
    busy: Type.Optional(Type.Boolean()),
    activeRuns: Type.Optional(NonNegativeInteger()),
    mode: Type.Optional(Type.String()),
    dmPolicy: Type.Optional(Type.String()),
    allowFrom: Type.Optional(Type.Array(Type.String())),
    tokenSource: Type.Optional(Type.String()),
    baseUrl: Type.Optional(Type.String()),
    probe: Type.Optional(Type.Unknown()),
    details: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          "What is particular to the platform (WhatsApp: linked number, LID, connection state, last disconnect)",
      }),
    ),
  },
  { additionalProperties: false },
);
export type ChannelAccountStatus = Static<typeof ChannelAccountStatus>;

/** Result of `channels.status`. */
export const ChannelsStatusResult = Type.Object(
  {
    ts: TimestampMs(),
    channelOrder: Type.Array(NonEmptyString()),
    channelLabels: StringMap(NonEmptyString()),
    channels: StringMap(Type.Unknown()),
    channelAccounts: StringMap(Type.Array(ChannelAccountStatus)),
    channelDefaultAccountId: StringMap(NonEmptyString()),
    eventLoop: Type.Optional(EventLoopHealth),
    partial: Type.Optional(Type.Boolean()),
    warnings: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type ChannelsStatusResult = Static<typeof ChannelsStatusResult>;

/** Params of `channels.logout`: drop an account's stored credentials (e.g. a WhatsApp session). */
export const ChannelsLogoutParams = Type.Object({
  channel: NonEmptyString(),
  accountId: Type.Optional(Type.String()),
});
export type ChannelsLogoutParams = Static<typeof ChannelsLogoutParams>;

/** Result of `channels.logout`. */
export const ChannelsLogoutResult = Type.Object(
  { channel: NonEmptyString(), accountId: NonEmptyString(), cleared: Type.Boolean() },
  { additionalProperties: false },
);
export type ChannelsLogoutResult = Static<typeof ChannelsLogoutResult>;

/** Params of `web.login.start`: begin a QR login (WhatsApp). */
export const WebLoginStartParams = Type.Object({
  force: Type.Optional(Type.Boolean()),
  phoneNumber: Type.Optional(
    Type.String({
      pattern: "^\\+?[0-9 ()-]{7,20}$",
      description: "Ours: log in with a pairing code for this number instead of a QR",
    }),
  ),
  timeoutMs: Type.Optional(NonNegativeInteger()),
  verbose: Type.Optional(Type.Boolean()),
  accountId: Type.Optional(Type.String()),
});
export type WebLoginStartParams = Static<typeof WebLoginStartParams>;

/** Params of `web.login.wait`: wait for the QR to be scanned (or for a fresh QR). */
export const WebLoginWaitParams = Type.Object({
  timeoutMs: Type.Optional(NonNegativeInteger()),
  accountId: Type.Optional(Type.String()),
  currentQrDataUrl: Type.Optional(Type.String({ maxLength: 16_384, pattern: "^data:image/png;base64," })),
});
export type WebLoginWaitParams = Static<typeof WebLoginWaitParams>;

/** Result of `web.login.start` and `web.login.wait`. */
export const WebLoginResult = Type.Object(
  {
    connected: Type.Boolean(),
    message: Type.String(),
    qrDataUrl: Type.Optional(Type.String()),
    qr: Type.Optional(Type.String({ description: "Ours: the QR's text (for a terminal rendering)" })),
    pairingCode: Type.Optional(Type.String({ description: "Ours: the code to type on the phone" })),
  },
  { additionalProperties: false },
);
export type WebLoginResult = Static<typeof WebLoginResult>;

/** Params of `channels.pairing.list`: pending DM pairing requests. */
export const ChannelsPairingListParams = Type.Object({
  channel: Type.Optional(NonEmptyString()),
  accountId: Type.Optional(NonEmptyString()),
});
export type ChannelsPairingListParams = Static<typeof ChannelsPairingListParams>;

/** A pending DM pairing request from an unknown sender. */
export const ChannelPairingRequest = Type.Object(
  {
    requestId: NonEmptyString({ description: "The pairing code the sender received" }),
    channel: NonEmptyString(),
    channelLabel: NonEmptyString(),
    accountId: NonEmptyString(),
    senderId: NonEmptyString(),
    senderLabel: NonEmptyString(),
    createdAt: NonEmptyString({ description: "ISO time" }),
    lastSeenAt: NonEmptyString({ description: "ISO time" }),
    expiresAt: NonEmptyString({ description: "ISO time" }),
    notifySupported: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ChannelPairingRequest = Static<typeof ChannelPairingRequest>;

/** Result of `channels.pairing.list`. */
export const ChannelsPairingListResult = Type.Object(
  {
    accounts: Type.Array(
      Type.Object(
        {
          channel: NonEmptyString(),
          channelLabel: NonEmptyString(),
          accountId: NonEmptyString(),
          notifySupported: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
    ),
    requests: Type.Array(ChannelPairingRequest),
    commandOwnerConfigured: Type.Boolean(),
    limits: Type.Object(
      { pendingPerAccount: NonNegativeInteger(), ttlMs: NonNegativeInteger() },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ChannelsPairingListResult = Static<typeof ChannelsPairingListResult>;

/** Params of `channels.pairing.approve`: allow a sender by its pairing code. */
export const ChannelsPairingApproveParams = Type.Object({
  channel: NonEmptyString(),
  accountId: NonEmptyString(),
  requestId: NonEmptyString(),
  notify: Type.Optional(Type.Boolean()),
});
export type ChannelsPairingApproveParams = Static<typeof ChannelsPairingApproveParams>;

/** Result of `channels.pairing.approve`. */
export const ChannelsPairingApproveResult = Type.Object(
  {
    requestId: NonEmptyString(),
    senderId: NonEmptyString(),
    notification: Type.Union([
      Type.Literal("not-requested"),
      Type.Literal("sent"),
      Type.Literal("unsupported"),
      Type.Literal("failed"),
    ]),
    commandOwnerBootstrap: Type.Union([
      Type.Literal("not-requested"),
      Type.Literal("configured"),
      Type.Literal("already-configured"),
      Type.Literal("unavailable"),
    ]),
  },
  { additionalProperties: false },
);
export type ChannelsPairingApproveResult = Static<typeof ChannelsPairingApproveResult>;
