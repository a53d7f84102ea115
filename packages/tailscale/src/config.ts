// @gateway/tailscale/config — the `gateway.tailscale` config section.
import { type Static, Type } from "@sinclair/typebox";

/** `gateway.tailscale`: publish the gateway's port on the tailnet (serve) or the internet (funnel). Off by default. */
export const TailscaleConfigSection = Type.Object(
  {
    mode: Type.Optional(
      Type.Union([Type.Literal("off"), Type.Literal("serve"), Type.Literal("funnel")], {
        default: "off",
        description:
          "serve: https://<machine>.<tailnet>.ts.net for your tailnet; funnel: the same URL for the whole internet (needs gateway.auth token or password)",
      }),
    ),
    resetOnExit: Type.Optional(
      Type.Boolean({ default: true, description: "Undo the serve/funnel route when the gateway stops" }),
    ),
  },
  { additionalProperties: false },
);
export type TailscaleConfigSection = Static<typeof TailscaleConfigSection>;

/** The exposure modes that do something. */
export type TailscaleMode = "serve" | "funnel";
