import { type Static, type TObject, type TOptional, type TSchema, Type } from "@sinclair/typebox";

/** The `gateway` section: where and how the gateway listens. */
export const GatewayConfigSection = Type.Object(
  {
    port: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 65535, default: 18789, description: "HTTP + WebSocket port" }),
    ),
    bind: Type.Optional(
      Type.Union([Type.Literal("loopback"), Type.Literal("lan"), Type.Literal("custom")], {
        default: "loopback",
        description: "loopback (127.0.0.1), lan (all interfaces) or custom (gateway.host)",
      }),
    ),
    host: Type.Optional(Type.String({ minLength: 1, description: "The address to bind when bind is custom" })),
    auth: Type.Optional(
      Type.Object(
        {
          mode: Type.Optional(
            Type.Union([Type.Literal("token"), Type.Literal("password"), Type.Literal("none")], { default: "token" }),
          ),
          token: Type.Optional(Type.String({ minLength: 16, description: "Shared token (secret)" })),
          password: Type.Optional(Type.String({ minLength: 8, description: "Shared password (secret)" })),
        },
        { additionalProperties: false },
      ),
    ),
    reload: Type.Optional(
      Type.Object(
        {
          mode: Type.Optional(
            Type.Union([Type.Literal("off"), Type.Literal("restart"), Type.Literal("hot"), Type.Literal("hybrid")], {
              default: "hybrid",
            }),
          ),
          debounceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, default: 300 })),
        },
        { additionalProperties: false },
      ),
    ),
    handshakeTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 120_000,
        default: 5_000,
        description:
          "Same as gateway.limits.handshakeTimeoutMs (kept for older configs; limits wins when both are set)",
      }),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          handshakeTimeoutMs: Type.Optional(
            Type.Integer({
              minimum: 100,
              maximum: 120_000,
              default: 5_000,
              description: "A socket that has not completed connect by then is closed",
            }),
          ),
          maxPendingPerAddress: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 100_000,
              default: 16,
              description: "Sockets waiting for their handshake per remote address (a newcomer evicts the oldest)",
            }),
          ),
          maxPendingTotal: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 1_000_000,
              default: 1_024,
              description: "Sockets waiting for their handshake from everywhere (a newcomer evicts the oldest)",
            }),
          ),
          maxConnectionsPerAddress: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 1_000_000,
              default: 256,
              description: "Connections that completed the handshake, per remote address",
            }),
          ),
          maxPreHandshakeBytes: Type.Optional(
            Type.Integer({
              minimum: 1_024,
              maximum: 16 * 1024 * 1024,
              default: 65_536,
              description: "Largest frame before connect",
            }),
          ),
          maxPayload: Type.Optional(
            Type.Integer({
              minimum: 65_536,
              maximum: 512 * 1024 * 1024,
              default: 26_214_400,
              description: "Largest frame after the handshake (policy.maxPayload in hello-ok)",
            }),
          ),
          maxBufferedBytes: Type.Optional(
            Type.Integer({
              minimum: 65_536,
              maximum: 4 * 1024 * 1024 * 1024,
              default: 52_428_800,
              description: "Outbound backlog at which a client is closed as a slow consumer",
            }),
          ),
          requestTimeoutMs: Type.Optional(
            Type.Integer({
              minimum: 100,
              maximum: 3_600_000,
              default: 30_000,
              description: "A method that has not answered by then fails with UNAVAILABLE",
            }),
          ),
          auth: Type.Optional(
            Type.Object(
              {
                maxFailures: Type.Optional(
                  Type.Integer({
                    minimum: 1,
                    maximum: 10_000,
                    default: 10,
                    description: "Failed logins (WebSocket or HTTP bearer) per client within windowMs before a lockout",
                  }),
                ),
                windowMs: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 86_400_000, default: 60_000 })),
                lockoutMs: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 86_400_000, default: 300_000 })),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false, description: "Connection and request limits; all apply live" },
      ),
    ),
    http: Type.Optional(
      Type.Object(
        {
          endpoints: Type.Optional(
            Type.Object(
              {
                chatCompletions: Type.Optional(
                  Type.Object(
                    {
                      enabled: Type.Optional(
                        Type.Boolean({
                          default: false,
                          description: "POST /v1/chat/completions and GET /v1/models (token auth) on the gateway port",
                        }),
                      ),
                    },
                    { additionalProperties: false },
                  ),
                ),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(
            Type.Boolean({ default: false, description: "Serve HTTPS and wss:// on the same port" }),
          ),
          certPath: Type.Optional(Type.String({ minLength: 1, description: "PEM certificate (chain) file" })),
          keyPath: Type.Optional(Type.String({ minLength: 1, description: "PEM private key file" })),
          autoGenerate: Type.Optional(
            Type.Boolean({
              default: false,
              description:
                "Without certPath/keyPath: generate a self-signed certificate and key once into <stateDir>/tls/ and reuse it; its SHA-256 fingerprint is logged and shown by `gateway status` for clients to pin (--tls-fingerprint)",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    trustedProxies: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        default: [],
        description:
          "Addresses of reverse proxies allowed to send Forwarded / X-Forwarded-For / X-Real-IP; such headers from anyone else are refused (403), and a proxied request is never local",
      }),
    ),
    allowedHosts: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        default: [],
        description:
          "Host names clients reach the gateway by, besides IP addresses, localhost and this machine's name (a reverse proxy's, a DNS name; .example.com matches subdomains). Other names are refused: a DNS-rebinding guard",
      }),
    ),
    controlUi: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(
            Type.Boolean({ default: true, description: "Serve the web Control UI (and WebChat at <basePath>chat)" }),
          ),
          basePath: Type.Optional(
            Type.String({
              default: "/",
              pattern: "^/?([A-Za-z0-9._~-]+/?)*$",
              description: "Where the Control UI is served, e.g. / or /ui/ (WebChat is at <basePath>chat)",
            }),
          ),
          allowedOrigins: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { default: [] })),
          authNoneScopes: Type.Optional(
            Type.Array(
              Type.Union(
                ["operator.read", "operator.write", "operator.admin", "operator.approvals", "operator.pairing"].map(
                  (scope) => Type.Literal(scope),
                ),
              ),
              {
                default: ["operator.read"],
                description:
                  "Scopes a browser page gets when gateway.auth.mode is none (any page you open could be asking)",
              },
            ),
          ),
          allowInsecureAuth: Type.Optional(
            Type.Boolean({
              default: false,
              description:
                "Let a Control UI connect without a device identity (a page served over plain http from another machine cannot create one). Insecure: local testing only",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    pairing: Type.Optional(
      Type.Object(
        {
          autoApproveLoopback: Type.Optional(
            Type.Boolean({
              default: true,
              description:
                "Pair devices connecting directly over loopback without asking (never through a proxy, never from a foreign browser Origin)",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type GatewayConfigSection = Static<typeof GatewayConfigSection>;

/** The `logging` section. */
export const LoggingConfigSection = Type.Object(
  {
    level: Type.Optional(
      Type.Union(
        ["trace", "debug", "info", "warn", "error", "fatal", "silent"].map((level) => Type.Literal(level)),
        { default: "info" },
      ),
    ),
    file: Type.Optional(Type.String({ minLength: 1, description: "Log file; default <stateDir>/logs/gateway.log" })),
  },
  { additionalProperties: false },
);
export type LoggingConfigSection = Static<typeof LoggingConfigSection>;

/** The sections the server owns; other packages add theirs when the app composes the schema. */
export const serverConfigSections = { gateway: GatewayConfigSection, logging: LoggingConfigSection } as const;

/** Compose the whole config schema from the sections each package owns. Unknown top-level keys are errors. */
export function composeConfigSchema<S extends Record<string, TSchema>>(sections: S) {
  const properties: Record<string, TSchema> = {};
  for (const [name, section] of Object.entries(sections)) properties[name] = Type.Optional(section);
  return Type.Object(properties, { additionalProperties: false }) as TObject<{ [K in keyof S]: TOptional<S[K]> }>;
}
