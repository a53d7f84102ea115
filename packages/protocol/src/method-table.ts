import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { ConnectParams, HelloOk } from "./connect.js";
import { HealthResult } from "./health.js";
import * as agents from "./methods/agents.js";
import * as channels from "./methods/channels.js";
import * as config from "./methods/config.js";
import * as cron from "./methods/cron.js";
import * as messaging from "./methods/messaging.js";
import * as nodes from "./methods/nodes.js";
import * as pairing from "./methods/pairing.js";
import * as sessions from "./methods/sessions.js";
import * as system from "./methods/system.js";
import { PresenceEntry } from "./presence.js";
import { NoParams, OkResult } from "./primitives.js";
import type { MethodScope, OperatorScope } from "./scopes.js";

/** Everything the server, the client and the docs need to know about one method. */
export interface MethodDefinition<P extends TSchema = TSchema, R extends TSchema = TSchema> {
  /** Schema of `params`; validated before any handler runs. Unknown fields are ignored. */
  readonly params: P;
  /** Schema of the (final) result. */
  readonly result: R;
  /** The scope the reference schema's `methods` map gives it. */
  readonly scope: MethodScope;
  /** For `scope: "dynamic"`: the operator scope these params need. */
  dynamicScope?(params: Static<P>): OperatorScope;
  /** Side-effecting methods need an `idempotencyKey`; a retry with the same key returns the first result. */
  readonly sideEffecting: boolean;
  /** Two-phase methods answer first with this ack, then with `result` under the same request id. */
  readonly accepted?: TSchema;
  /** One line for the docs. */
  readonly description: string;
  /**
   * `implemented`: this gateway registers a handler (and `hello-ok` advertises it). `planned`: the shape is here for
   * clients and docs, the gateway does not answer it yet (unknown method). @default "implemented"
   */
  readonly status?: ImplementationStatus;
}

/** Whether the gateway has a method or event, or only its shape for now. */
export type ImplementationStatus = "implemented" | "planned";

const define = <P extends TSchema, R extends TSchema>(definition: MethodDefinition<P, R>) => definition;

/**
 * The method table: the single source of truth for every core method. The server registers handlers against it,
 * the client types `request()` from it, and `pnpm protocol:gen` writes the docs' JSON Schema from it.
 */
export const MethodTable = {
  connect: define({
    params: ConnectParams,
    result: HelloOk,
    scope: "operator.admin",
    sideEffecting: false,
    description: "The handshake; only valid as the first frame of a connection.",
  }),

  // system
  health: define({
    params: NoParams(),
    result: HealthResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The health snapshot plus the gateway's process figures.",
  }),
  status: define({
    params: NoParams(),
    result: system.StatusResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "A one-screen summary of the running gateway, with what is missing and how to add it.",
  }),
  "fleet.status": define({
    params: NoParams(),
    result: system.FleetStatusResult,
    scope: "operator.read",
    sideEffecting: false,
    description:
      "The instances of this gateway's fleet (fleet.enabled: several instances on one Redis) and the channel accounts each runs.",
  }),
  "system-presence": define({
    params: NoParams(),
    result: Type.Array(PresenceEntry),
    scope: "operator.read",
    sideEffecting: false,
    description: "The current presence list.",
  }),
  "system-event": define({
    params: system.SystemEventParams,
    result: OkResult(),
    scope: "operator.admin",
    sideEffecting: false,
    description: "Queue a line of text for the main session and update the caller's presence.",
  }),
  "last-heartbeat": define({
    params: NoParams(),
    result: system.LastHeartbeatResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The last heartbeat event, or null before the first one.",
  }),
  "set-heartbeats": define({
    params: system.SetHeartbeatsParams,
    result: system.SetHeartbeatsResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Turn heartbeats on or off at runtime.",
  }),
  wake: define({
    params: system.WakeParams,
    result: system.WakeResult,
    scope: "operator.write",
    sideEffecting: false,
    description: "Wake the main session now or at the next heartbeat, with a line of text.",
  }),
  "logs.tail": define({
    params: system.LogsTailParams,
    result: system.LogsTailResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Read the gateway's own log file from a byte cursor.",
  }),

  "system.info": define({
    params: NoParams(),
    result: system.SystemInfoResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The machine the gateway runs on.",
  }),
  "update.status": define({
    params: Type.Object({ refreshCheckout: Type.Optional(Type.Boolean()) }),
    result: system.UpdateStatusResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Whether an update is available: never here (no update channel; update with npm).",
  }),
  "diagnostics.stability": define({
    params: Type.Object({}),
    result: system.DiagnosticsStabilityResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Event-loop delay, memory, busy lanes and connections, measured now.",
  }),
  "skills.status": define({
    params: Type.Object({ agentId: Type.Optional(Type.String()), sessionKey: Type.Optional(Type.String()) }),
    result: system.SkillsStatusResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The agent's skills: none yet (said so).",
  }),
  "usage.status": define({
    params: system.UsageParams,
    result: system.UsageStatusResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Recorded token usage, in total and per session.",
  }),
  "usage.cost": define({
    params: system.UsageParams,
    result: system.UsageCostResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Tokens per day from the transcripts (cost null: no prices are configured).",
  }),

  // agents and models
  "agents.list": define({
    params: agents.AgentsListParams,
    result: agents.AgentsListResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The agents this gateway runs (one, `main`).",
  }),
  "agent.identity.get": define({
    params: agents.AgentIdentityParams,
    result: agents.AgentIdentityResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "An agent's display name.",
  }),
  "models.list": define({
    params: agents.ModelsListParams,
    result: agents.ModelsListResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The models of the configured providers (`models.providers`).",
  }),
  "tools.catalog": define({
    params: agents.ToolsCatalogParams,
    result: agents.ToolsCatalogResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The tools the agent can call.",
  }),

  // config
  "config.get": define({
    params: NoParams(),
    result: config.ConfigGetResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The config (secrets redacted), its file path and hash.",
  }),
  "config.set": define({
    params: config.ConfigSetParams,
    result: config.ConfigWriteResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Replace the config file (needs `baseHash` once a file exists).",
  }),
  "config.patch": define({
    params: config.ConfigPatchParams,
    result: config.ConfigWriteResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Apply a JSON5 merge patch to the config file.",
  }),
  "config.apply": define({
    params: config.ConfigApplyParams,
    result: config.ConfigWriteResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Replace the config and apply it now, restarting if needed.",
  }),
  "config.schema": define({
    params: NoParams(),
    result: config.ConfigSchemaResponse,
    scope: "operator.read",
    sideEffecting: false,
    description: "The JSON Schema of the config, with UI hints.",
  }),
  "config.schema.lookup": define({
    params: config.ConfigSchemaLookupParams,
    result: config.ConfigSchemaLookupResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The config schema at one dotted path, with its direct children.",
  }),

  // messaging
  send: define({
    params: messaging.SendParams,
    result: messaging.SendResult,
    scope: "operator.write",
    sideEffecting: true,
    description: "Send a message to a channel peer.",
  }),
  "message.action": define({
    params: messaging.MessageActionParams,
    result: messaging.MessageActionResult,
    scope: "operator.write",
    sideEffecting: true,
    description: "A channel action by name (`openclaw message send`); here only `send`.",
  }),
  poll: define({
    status: "planned",
    params: messaging.PollParams,
    result: messaging.SendResult,
    scope: "operator.write",
    sideEffecting: true,
    description: "Send a poll to a channel peer.",
  }),
  agent: define({
    params: messaging.AgentParams,
    result: messaging.AgentResult,
    accepted: messaging.AgentAccepted,
    scope: "dynamic",
    dynamicScope: (params) => (params.extraSystemPrompt === undefined ? "operator.write" : "operator.admin"),
    sideEffecting: true,
    description: "Run an agent turn: answers with an ack, then the final result.",
  }),
  "agent.wait": define({
    params: messaging.AgentWaitParams,
    result: messaging.AgentWaitResult,
    scope: "operator.write",
    sideEffecting: false,
    description: "Wait for a run to end.",
  }),
  "chat.send": define({
    params: messaging.ChatSendParams,
    result: messaging.ChatSendResult,
    scope: "operator.write",
    sideEffecting: true,
    description: "Send a user message to a session; output arrives as `chat` events.",
  }),
  "chat.history": define({
    params: messaging.ChatHistoryParams,
    result: messaging.ChatHistoryResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The newest messages of a session.",
  }),
  "chat.startup": define({
    params: messaging.ChatHistoryParams,
    result: messaging.ChatHistoryResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "What a chat screen opens with: the newest messages and the session's state (as `chat.history`).",
  }),
  "chat.metadata": define({
    params: agents.ChatMetadataParams,
    result: agents.ChatMetadataResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The agent's identity, the models and the commands a chat screen offers.",
  }),
  "chat.abort": define({
    params: messaging.ChatAbortParams,
    result: messaging.ChatAbortResult,
    scope: "operator.write",
    sideEffecting: false,
    description: "Stop the session's current run.",
  }),
  "chat.inject": define({
    params: messaging.ChatInjectParams,
    result: messaging.ChatInjectResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Append an assistant note to a transcript without running the agent.",
  }),

  // sessions
  "sessions.describe": define({
    params: sessions.SessionsDescribeParams,
    result: sessions.SessionsDescribeResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "One session as `sessions.list` shows it, or null.",
  }),
  "sessions.subscribe": define({
    params: sessions.SessionsListParams,
    result: sessions.SessionsSubscribeResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Receive `sessions.changed` on this connection; with list params, the list now.",
  }),
  "sessions.unsubscribe": define({
    params: NoParams(),
    result: sessions.SessionsUnsubscribeResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Stop `sessions.changed` on this connection.",
  }),
  "sessions.messages.subscribe": define({
    params: sessions.SessionsMessagesSubscribeParams,
    result: sessions.SessionsMessagesSubscribeResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Receive one session's `session.message` and `session.tool` events on this connection.",
  }),
  "sessions.messages.unsubscribe": define({
    params: sessions.SessionsMessagesUnsubscribeParams,
    result: sessions.SessionsMessagesSubscribeResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Stop one session's message events on this connection.",
  }),
  "sessions.create": define({
    params: sessions.SessionsCreateParams,
    result: sessions.SessionsCreateResult,
    scope: "dynamic",
    // Choosing the session's model is an admin's decision (as `sessions.patch` with a model).
    dynamicScope: (params) => (params.model === undefined ? "operator.write" : "operator.admin"),
    sideEffecting: false,
    description: "Create a session (optionally with its first message, which starts a run).",
  }),
  "sessions.send": define({
    params: sessions.SessionsSendParams,
    result: sessions.SessionsSendResult,
    scope: "operator.write",
    sideEffecting: false,
    description: "Send a user message to a session by key (as `chat.send`).",
  }),
  "sessions.abort": define({
    params: sessions.SessionsAbortParams,
    result: messaging.ChatAbortResult,
    scope: "operator.write",
    sideEffecting: false,
    description: "Stop a session's run, or one run by id.",
  }),
  "sessions.compact": define({
    params: sessions.SessionsCompactParams,
    result: sessions.SessionsCompactResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Keep only a session's newest messages; the full transcript is kept aside.",
  }),
  "sessions.list": define({
    params: sessions.SessionsListParams,
    result: sessions.SessionsListResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Sessions, newest first.",
  }),
  "sessions.preview": define({
    params: sessions.SessionsPreviewParams,
    result: sessions.SessionsPreviewResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The last messages of several sessions.",
  }),
  "sessions.patch": define({
    params: sessions.SessionsPatchParams,
    result: sessions.SessionsPatchResult,
    scope: "dynamic",
    dynamicScope: (params) => (params.model === undefined ? "operator.write" : "operator.admin"),
    sideEffecting: false,
    description: "Change a session's settings.",
  }),
  "sessions.reset": define({
    params: sessions.SessionsResetParams,
    result: sessions.SessionsResetResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Start a new session id under the same key.",
  }),
  "sessions.delete": define({
    params: sessions.SessionsDeleteParams,
    result: sessions.SessionsDeleteResult,
    scope: "dynamic",
    dynamicScope: (params) => (params.deleteTranscript === true ? "operator.admin" : "operator.write"),
    sideEffecting: false,
    description: "Delete a session (its transcript is archived unless `deleteTranscript`).",
  }),

  // channels
  "channels.status": define({
    params: channels.ChannelsStatusParams,
    result: channels.ChannelsStatusResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Every channel account's status; `probe` checks the platform now.",
  }),
  "channels.logout": define({
    params: channels.ChannelsLogoutParams,
    result: channels.ChannelsLogoutResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Drop a channel account's stored credentials.",
  }),
  "web.login.start": define({
    params: channels.WebLoginStartParams,
    result: channels.WebLoginResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Begin a QR login (WhatsApp).",
  }),
  "web.login.wait": define({
    params: channels.WebLoginWaitParams,
    result: channels.WebLoginResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Wait for the QR to be scanned.",
  }),
  "channels.pairing.list": define({
    params: channels.ChannelsPairingListParams,
    result: channels.ChannelsPairingListResult,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Pending DM pairing requests.",
  }),
  "channels.pairing.approve": define({
    params: channels.ChannelsPairingApproveParams,
    result: channels.ChannelsPairingApproveResult,
    scope: "dynamic",
    dynamicScope: () => "operator.pairing",
    sideEffecting: false,
    description: "Allow a DM sender by its pairing code.",
  }),

  // device and node pairing
  "device.pair.list": define({
    params: NoParams(),
    result: pairing.DevicePairListResult,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Pending and paired devices.",
  }),
  "device.pair.approve": define({
    params: pairing.DevicePairDecisionParams,
    result: pairing.DevicePairResolvedEvent,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Approve a pending device.",
  }),
  "device.pair.reject": define({
    params: pairing.DevicePairDecisionParams,
    result: pairing.DevicePairResolvedEvent,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Reject a pending device.",
  }),
  "device.pair.remove": define({
    params: pairing.DevicePairRemoveParams,
    result: pairing.DevicePairRemoveResult,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Forget a paired device and revoke its tokens.",
  }),
  "device.token.rotate": define({
    params: pairing.DeviceTokenRotateParams,
    result: pairing.DeviceTokenRotateResult,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Issue a new device token.",
  }),
  "device.token.revoke": define({
    params: pairing.DeviceTokenRevokeParams,
    result: pairing.DeviceTokenRevokeResult,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Revoke a device token.",
  }),
  "node.pair.request": define({
    status: "planned",
    params: pairing.NodePairRequestParams,
    result: pairing.NodePairRequestResult,
    scope: "node",
    sideEffecting: false,
    description: "A node asks to be paired.",
  }),
  "node.pair.list": define({
    params: NoParams(),
    result: pairing.NodePairListResult,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Pending and paired nodes.",
  }),
  "node.pair.approve": define({
    params: pairing.NodePairDecisionParams,
    result: pairing.NodePairResolvedEvent,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Approve a pending node.",
  }),
  "node.pair.reject": define({
    params: pairing.NodePairDecisionParams,
    result: pairing.NodePairResolvedEvent,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Reject a pending node.",
  }),
  "node.pair.verify": define({
    status: "planned",
    params: pairing.NodePairVerifyParams,
    result: pairing.NodePairVerifyResult,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Check a node's pairing token.",
  }),

  // nodes
  "node.list": define({
    params: NoParams(),
    result: nodes.NodeListResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Known nodes and whether they are connected.",
  }),
  "node.describe": define({
    params: nodes.NodeDescribeParams,
    result: nodes.NodeSummary,
    scope: "operator.read",
    sideEffecting: false,
    description: "One node.",
  }),
  "node.rename": define({
    params: nodes.NodeRenameParams,
    result: nodes.NodeRenameResult,
    scope: "operator.pairing",
    sideEffecting: false,
    description: "Rename a node.",
  }),
  "node.invoke": define({
    params: nodes.NodeInvokeParams,
    result: nodes.NodeInvokeResult,
    scope: "dynamic",
    dynamicScope: () => "operator.write",
    sideEffecting: true,
    description: "Run a command on a node and wait for its answer.",
  }),
  "node.invoke.result": define({
    params: nodes.NodeInvokeResultParams,
    result: OkResult(),
    scope: "node",
    sideEffecting: false,
    description: "A node answers an invoke request.",
  }),
  "node.event": define({
    params: nodes.NodeEventParams,
    result: nodes.NodeEventResult,
    scope: "node",
    sideEffecting: false,
    description: "A node reports an event.",
  }),

  // cron
  "cron.list": define({
    params: cron.CronListParams,
    result: cron.CronListResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "Scheduled jobs.",
  }),
  "cron.get": define({
    params: cron.CronGetParams,
    result: cron.CronJob,
    scope: "operator.read",
    sideEffecting: false,
    description: "One job by id.",
  }),
  "cron.status": define({
    params: NoParams(),
    result: cron.CronStatusResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "The scheduler's state.",
  }),
  "cron.add": define({
    params: cron.CronAddParams,
    result: cron.CronJob,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Add a job.",
  }),
  "cron.update": define({
    params: cron.CronUpdateParams,
    result: cron.CronJob,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Change a job.",
  }),
  "cron.remove": define({
    params: cron.CronRemoveParams,
    result: cron.CronRemoveResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Remove a job.",
  }),
  "cron.run": define({
    params: cron.CronRunParams,
    result: cron.CronRunResult,
    scope: "operator.admin",
    sideEffecting: false,
    description: "Run a job now.",
  }),
  "cron.runs": define({
    params: cron.CronRunsParams,
    result: cron.CronRunsResult,
    scope: "operator.read",
    sideEffecting: false,
    description: "A job's run log, newest first.",
  }),
} as const satisfies Record<string, MethodDefinition>;

/** Names of the core methods. */
export type MethodName = keyof typeof MethodTable;
/** The params a method takes, from its name. */
export type MethodParams<M extends MethodName> = Static<(typeof MethodTable)[M]["params"]>;
/** The (final) result of a method, from its name. */
export type MethodResult<M extends MethodName> = Static<(typeof MethodTable)[M]["result"]>;

/** Every core method name, in table order. */
export const METHOD_NAMES = Object.keys(MethodTable) as MethodName[];

/** The methods this gateway answers (status `implemented`); the rest are planned. */
export const IMPLEMENTED_METHOD_NAMES: readonly MethodName[] = METHOD_NAMES.filter(
  (name) => ((MethodTable[name] as MethodDefinition).status ?? "implemented") === "implemented",
);

/** Whether `name` is a core method of the table. */
export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(MethodTable, name);
}

/** The operator scope a call needs, resolving `dynamic` from the params; `node` for node-only methods. */
export function requiredScope(name: MethodName, params: unknown): OperatorScope | "node" {
  const definition: MethodDefinition = MethodTable[name];
  if (definition.scope !== "dynamic") return definition.scope;
  // Params were validated against this method's schema by the caller; without a resolver, ask for the most.
  return definition.dynamicScope ? definition.dynamicScope(params as never) : "operator.admin";
}
