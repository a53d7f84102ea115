import { invalidRequest } from "@gateway/protocol";
import type { GatewayServer } from "../gateway-server.js";
import type { ChannelManager } from "./channel-manager.js";
import { loadPluginModules } from "./load-plugins.js";

/** What `attachChannels` reads of the config. */
export interface ChannelsAttachOptions {
  /** The current `channels` section. */
  channels(): Record<string, unknown> | undefined;
  /** `plugins:` entries (loaded once, at start). */
  plugins?: readonly string[];
  /** Where relative plugin paths start (the config file's directory). */
  baseDir: string;
}

/**
 * Put a channel manager on a gateway server: the `channels.status`, `channels.logout`, `web.login.start|wait`, `send` and
 * `channels.pairing.list|approve` methods, webhooks under `/channels/*` (no gateway token: each plugin checks its
 * platform's secret), the channels in health and warnings, and a service that loads plugins and starts the accounts
 * after the listener is up (stopping them on shutdown).
 */
export function attachChannels(server: GatewayServer, manager: ChannelManager, options: ChannelsAttachOptions): void {
  server.registerMethod("channels.status", (params) => manager.status(params));
  server.registerMethod("channels.logout", (params) =>
    manager.logins.logout(params.channel, params.accountId || undefined),
  );
  // A login waits for a person with a phone: minutes, not the default 30 s of a request.
  server.registerMethod("web.login.start", (params) => manager.logins.start(params), { timeoutMs: 180_000 });
  server.registerMethod("web.login.wait", (params) => manager.logins.wait(params), { timeoutMs: 300_000 });
  server.registerMethod("channels.pairing.list", (params) => manager.pairingList(params));
  server.registerMethod("channels.pairing.approve", (params) => manager.pairingApprove(params));
  server.registerMethod("send", async (params) => {
    if (!params.message)
      throw invalidRequest(
        params.mediaUrl || params.mediaUrls?.length
          ? "send: media is not supported yet; send message text"
          : "send needs message (the text to send)",
      );
    const sent = await manager.deliver(
      {
        ...(params.channel ? { channel: params.channel } : {}),
        ...(params.accountId ? { accountId: params.accountId } : {}),
        peer: params.to,
        ...(params.threadId ? { threadId: params.threadId } : {}),
        ...(params.replyToId ? { replyToMessageId: params.replyToId } : {}),
      },
      params.message,
    );
    return {
      ok: true as const,
      channel: sent.channel,
      accountId: sent.accountId,
      to: params.to,
      messageId: sent.messageId,
      messageIds: sent.messageIds,
    };
  });
  // The reference CLI's `openclaw message send`: the same delivery as `send`.
  server.registerMethod("message.action", async (params) => {
    if (params.action !== "send")
      throw invalidRequest(
        `message.action "${params.action}" is not supported by this gateway; it sends messages (action "send")`,
      );
    const fields = params.params;
    const text = (name: string) => (typeof fields[name] === "string" ? (fields[name] as string) : undefined);
    const to = text("target") ?? text("to");
    const message = text("message") ?? text("text");
    if (!to) throw invalidRequest("message.action send needs params.target (the chat id)");
    if (!message) throw invalidRequest("message.action send needs params.message (the text to send)");
    const threadId = text("threadId");
    const replyTo = text("replyTo") ?? text("replyToId");
    const sent = await manager.deliver(
      {
        channel: params.channel,
        ...(params.accountId ? { accountId: params.accountId } : {}),
        peer: to,
        ...(threadId ? { threadId } : {}),
        ...(replyTo ? { replyToMessageId: replyTo } : {}),
      },
      message,
    );
    return {
      ok: true as const,
      action: "send" as const,
      channel: sent.channel,
      accountId: sent.accountId,
      to,
      messageId: sent.messageId,
      ...(sent.messageIds ? { messageIds: sent.messageIds } : {}),
    };
  });
  for (const method of ["POST", "GET"] as const) {
    server.registerHttpRoute({
      method,
      url: "/channels/*",
      auth: false,
      rawBody: true,
      async handler(request, response) {
        const body = Buffer.isBuffer(request.body) ? request.body : undefined;
        const served = await manager.handleHttp(method, request.path, { headers: request.headers, body }, response);
        if (!served)
          response
            .writeHead(404, { "content-type": "application/json" })
            .end(JSON.stringify({ error: { message: `no channel webhook at ${request.path}`, type: "not_found" } }));
      },
    });
  }
  server.contributeHealth("channels", () => manager.health());
  server.addWarnings(() => manager.warnings());
  server.registerService({
    name: "channels",
    async start() {
      for (const loaded of await loadPluginModules(options.plugins ?? [], options.baseDir)) {
        if ("error" in loaded) manager.registry.failed(loaded.origin, loaded.error);
        else manager.registry.add(loaded.plugin, loaded.origin);
      }
      await manager.applyValid(options.channels());
    },
    stop: () => manager.stop(),
  });
}
