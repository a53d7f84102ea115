// @gateway/canvas-host/config — the `canvasHost` config section, without loading fastify or a file watcher.
import { type Static, Type } from "@sinclair/typebox";

/** The canvas host's default port (the reference's). */
export const DEFAULT_CANVAS_PORT = 18793;
/** The largest file the canvas host serves unless configured otherwise (10 MiB). */
export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;

/** The `canvasHost` section: the agent-editable web page the gateway serves on its own port. Off by default. */
export const CanvasHostConfigSection = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({ default: false, description: "Serve the canvas folder on its own port (with live reload)" }),
    ),
    port: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_CANVAS_PORT, description: "The canvas host's port" }),
    ),
    host: Type.Optional(
      Type.String({
        minLength: 1,
        default: "127.0.0.1",
        description:
          "The address the canvas host binds; anything but loopback shows the canvas to the network (no auth)",
      }),
    ),
    root: Type.Optional(
      Type.String({ minLength: 1, description: "The folder served; default <stateDir>/canvas (created 0700)" }),
    ),
    liveReload: Type.Optional(
      Type.Boolean({ default: true, description: "Reload open pages when a file under root changes" }),
    ),
    maxFileBytes: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1024 * 1024 * 1024,
        default: DEFAULT_MAX_FILE_BYTES,
        description: "Larger files are refused (413)",
      }),
    ),
  },
  { additionalProperties: false },
);
export type CanvasHostConfigSection = Static<typeof CanvasHostConfigSection>;
