// Agents, models and tools as the reference's clients read them: `agents.list`, `agent.identity.get`, `models.list`,
// `tools.catalog`, `chat.metadata`.
import { type Static, Type } from "@sinclair/typebox";
import { NonEmptyString, NonNegativeInteger } from "../primitives.js";

/** Params of `agents.list`. */
export const AgentsListParams = Type.Object({});
export type AgentsListParams = Static<typeof AgentsListParams>;

/** One agent as listed. */
export const AgentListEntry = Type.Object(
  {
    id: NonEmptyString(),
    kind: Type.Literal("agent"),
    name: Type.Optional(NonEmptyString()),
    workspace: Type.Optional(NonEmptyString()),
    model: Type.Optional(Type.Object({ primary: NonEmptyString() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type AgentListEntry = Static<typeof AgentListEntry>;

/** Result of `agents.list`: this gateway runs one agent, `main`. */
export const AgentsListResult = Type.Object(
  {
    defaultId: NonEmptyString(),
    ownership: Type.Literal("sole"),
    mainKey: NonEmptyString(),
    scope: Type.Union([Type.Literal("per-sender"), Type.Literal("global")]),
    agents: Type.Array(AgentListEntry),
  },
  { additionalProperties: false },
);
export type AgentsListResult = Static<typeof AgentsListResult>;

/** Params of `agent.identity.get`. */
export const AgentIdentityParams = Type.Object({
  agentId: Type.Optional(NonEmptyString()),
  sessionKey: Type.Optional(Type.String()),
});
export type AgentIdentityParams = Static<typeof AgentIdentityParams>;

/** Result of `agent.identity.get`: the agent's display name (this gateway has no avatars). */
export const AgentIdentityResult = Type.Object(
  {
    agentId: NonEmptyString(),
    name: NonEmptyString(),
    nameSource: Type.Union([Type.Literal("config"), Type.Literal("default")]),
    avatarStatus: Type.Literal("none"),
  },
  { additionalProperties: false },
);
export type AgentIdentityResult = Static<typeof AgentIdentityResult>;

/** Params of `models.list`. */
export const ModelsListParams = Type.Object({
  agentId: Type.Optional(NonEmptyString()),
  view: Type.Optional(
    Type.Union([
      Type.Literal("default"),
      Type.Literal("configured"),
      Type.Literal("provider-config"),
      Type.Literal("all"),
    ]),
  ),
});
export type ModelsListParams = Static<typeof ModelsListParams>;

/** One model a provider of `models.providers` offers. */
export const ModelChoice = Type.Object(
  {
    id: NonEmptyString(),
    name: NonEmptyString(),
    provider: NonEmptyString(),
    tags: Type.Optional(Type.Array(NonEmptyString())),
    available: Type.Boolean(),
    contextWindow: Type.Optional(Type.Integer({ minimum: 1 })),
    reasoning: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ModelChoice = Static<typeof ModelChoice>;

/** Result of `models.list`: every model of the configured providers (the default one tagged `default`). */
export const ModelsListResult = Type.Object({ models: Type.Array(ModelChoice) }, { additionalProperties: false });
export type ModelsListResult = Static<typeof ModelsListResult>;

/** Params of `tools.catalog`. */
export const ToolsCatalogParams = Type.Object({
  agentId: Type.Optional(NonEmptyString()),
  includePlugins: Type.Optional(Type.Boolean()),
});
export type ToolsCatalogParams = Static<typeof ToolsCatalogParams>;

/** One tool the agent can call. */
export const ToolCatalogEntry = Type.Object(
  {
    id: NonEmptyString(),
    label: NonEmptyString(),
    description: Type.String(),
    source: Type.Literal("core"),
    defaultProfiles: Type.Array(Type.Literal("full")),
  },
  { additionalProperties: false },
);
export type ToolCatalogEntry = Static<typeof ToolCatalogEntry>;

/** Result of `tools.catalog`: the agent's real tools, in one group. */
export const ToolsCatalogResult = Type.Object(
  {
    agentId: NonEmptyString(),
    profiles: Type.Array(
      Type.Object({ id: Type.Literal("full"), label: NonEmptyString() }, { additionalProperties: false }),
    ),
    groups: Type.Array(
      Type.Object(
        {
          id: NonEmptyString(),
          label: NonEmptyString(),
          source: Type.Literal("core"),
          tools: Type.Array(ToolCatalogEntry),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ToolsCatalogResult = Static<typeof ToolsCatalogResult>;

/** Params of `chat.metadata`. */
export const ChatMetadataParams = Type.Object({
  agentId: Type.Optional(NonEmptyString()),
  sessionKey: Type.Optional(NonEmptyString()),
});
export type ChatMetadataParams = Static<typeof ChatMetadataParams>;

/** Result of `chat.metadata`: what a chat screen needs besides the transcript. */
export const ChatMetadataResult = Type.Object(
  {
    agentId: NonEmptyString(),
    sessionKey: Type.Optional(NonEmptyString()),
    identity: AgentIdentityResult,
    models: Type.Array(ModelChoice),
    /** Commands a chat input understands (start a new session). */
    commands: Type.Array(
      Type.Object({ name: NonEmptyString(), description: Type.String() }, { additionalProperties: false }),
    ),
    contextTokens: Type.Union([NonNegativeInteger(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ChatMetadataResult = Static<typeof ChatMetadataResult>;
