import { type Static, Type } from "@sinclair/typebox";

const SenderList = Type.Array(Type.String({ minLength: 1 }), {
  description: 'Sender ids or @usernames; "*" means anyone',
});

const GroupSettings = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    requireMention: Type.Optional(Type.Boolean({ description: "Answer only when mentioned (or replied to)" })),
    allowFrom: Type.Optional(SenderList),
  },
  { additionalProperties: false },
);

/** Who may talk to the agent through one channel account: DM policy, allowlists, groups and mention gating. */
export const ChannelAccessConfig = Type.Object({
  enabled: Type.Optional(Type.Boolean({ description: "@default true" })),
  dmPolicy: Type.Optional(
    Type.Union([Type.Literal("pairing"), Type.Literal("allowlist"), Type.Literal("open"), Type.Literal("disabled")], {
      description:
        'Direct messages from unknown senders: pairing (they get a code you approve), allowlist (allowFrom only), open (needs "*" in allowFrom), disabled. @default pairing',
    }),
  ),
  allowFrom: Type.Optional(SenderList),
  groupPolicy: Type.Optional(
    Type.Union([Type.Literal("allowlist"), Type.Literal("open"), Type.Literal("disabled")], {
      description: "Groups: allowlist (only those under `groups`), open (any group), disabled. @default allowlist",
    }),
  ),
  groups: Type.Optional(
    Type.Record(Type.String(), GroupSettings, {
      description: 'Allowed groups by id ("*": every group), with settings',
    }),
  ),
  groupAllowFrom: Type.Optional(SenderList),
  requireMention: Type.Optional(Type.Boolean({ description: "In groups, answer only when mentioned. @default true" })),
  mentionPatterns: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), { description: "Regular expressions that count as a mention" }),
  ),
  historyLimit: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 200,
      description: "Unanswered group messages kept as context for the next mention. @default 20",
    }),
  ),
  debounceMs: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 60_000,
      description: "Messages of one sender within this window are answered together. @default 500",
    }),
  ),
});
export type ChannelAccessConfig = Static<typeof ChannelAccessConfig>;
