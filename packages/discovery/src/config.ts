// @gateway/discovery/config — the `discovery` config section (the reference's `discovery.mdns.mode`).
import { type Static, Type } from "@sinclair/typebox";

/** `discovery`: how the gateway announces itself on the local network. */
export const DiscoveryConfigSection = Type.Object(
  {
    mdns: Type.Optional(
      Type.Object(
        {
          mode: Type.Optional(
            Type.Union([Type.Literal("minimal"), Type.Literal("off")], {
              default: "minimal",
              description:
                "minimal: advertise _openclaw-gw._tcp (port, protocol, TLS fingerprint) — only when the gateway binds beyond loopback; off: never",
            }),
          ),
          name: Type.Optional(
            Type.String({ minLength: 1, maxLength: 63, description: "The instance name; default '<host> (Gateway)'" }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DiscoveryConfigSection = Static<typeof DiscoveryConfigSection>;
