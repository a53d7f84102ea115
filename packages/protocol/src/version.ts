/** The protocol version this package describes (OpenClaw gateway protocol v4). */
export const PROTOCOL_VERSION = 4;

/** The lowest and highest protocol versions a Gateway server accepts in `connect`. */
export const SUPPORTED_PROTOCOL_RANGE = { min: 4, max: 4 } as const;
