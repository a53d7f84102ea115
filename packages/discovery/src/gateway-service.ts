// The DNS-SD service a gateway advertises: the type the reference's apps browse for, and a TXT record with only what
// a client needs to connect. Never a token, a password, a path or a user name: mDNS goes to everyone on the link.

/** The DNS-SD service type (the reference's `GATEWAY_SERVICE_TYPE`). */
export const GATEWAY_SERVICE_TYPE = "_openclaw-gw._tcp";
/** The same, as ciao's `type` (without the underscore and protocol). */
export const GATEWAY_SERVICE_NAME = "openclaw-gw";

/** What goes into the TXT record. */
export interface GatewayTxtInput {
  readonly port: number;
  readonly protocolVersion: number;
  /** SHA-256 of the gateway's TLS certificate, lower-case hex, when it serves TLS. */
  readonly tlsFingerprintSha256?: string;
}

/** The TXT record: the reference's keys (role, transport, gatewayPort, gatewayTls, gatewayTlsSha256) plus protocol. */
export function gatewayTxt(input: GatewayTxtInput): Record<string, string> {
  return {
    role: "gateway",
    transport: "gateway",
    gatewayPort: String(input.port),
    protocol: String(input.protocolVersion),
    ...(input.tlsFingerprintSha256 ? { gatewayTls: "1", gatewayTlsSha256: input.tlsFingerprintSha256 } : {}),
  };
}

/** The TXT keys a gateway may publish; anything else found in a record is not ours. */
export const GATEWAY_TXT_KEYS: readonly string[] = [
  "role",
  "transport",
  "gatewayPort",
  "protocol",
  "gatewayTls",
  "gatewayTlsSha256",
];

/** Normalise a certificate fingerprint (`AB:CD:…` or hex) to lower-case hex, as the reference pins it. */
export function normaliseFingerprint(fingerprint: string): string {
  return fingerprint
    .replace(/^sha256:/i, "")
    .replaceAll(":", "")
    .toLowerCase();
}
