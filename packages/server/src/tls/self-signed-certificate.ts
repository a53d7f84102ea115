// A self-signed X.509 certificate for `gateway.tls.autoGenerate`, built with node:crypto alone (an ECDSA P-256 key, a
// small DER encoder): synchronous, so the gateway's composition stays synchronous, and no openssl binary is needed.
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { isIP } from "node:net";

const der = (tag: number, content: Buffer): Buffer => {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else {
    const bytes: number[] = [];
    for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
};
const sequence = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => der(0x31, Buffer.concat(items));
const integer = (value: Buffer) => der(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
const utf8 = (text: string) => der(0x0c, Buffer.from(text, "utf8"));
const explicit = (index: number, content: Buffer) => der(0xa0 + index, content);

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split(".").map(Number);
  const bytes = [first! * 40 + second!];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      groups.unshift((value % 128) | (groups.length > 0 ? 0x80 : 0));
      if (value < 128) break;
    }
    bytes.push(...groups);
  }
  return der(0x06, Buffer.from(bytes));
}

/** UTCTime (YYMMDDHHMMSSZ) up to 2049, GeneralizedTime after, as X.509 requires. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return date.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(`${iso.slice(2)}Z`)) : der(0x18, Buffer.from(`${iso}Z`));
}

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split(".").map(Number));
  const [head = "", tail = ""] = address.split("::");
  const groups = (part: string) => (part ? part.split(":") : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = [...groups(head), ...Array(address.includes("::") ? missing : 0).fill("0"), ...groups(tail)];
  return Buffer.from(all.flatMap((group) => [Number.parseInt(group, 16) >> 8, Number.parseInt(group, 16) & 0xff]));
}

export interface SelfSignedCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * A new self-signed certificate (ECDSA P-256, SHA-256) for `commonName`, valid for the given names and addresses
 * (subjectAltName: DNS names and IPs) from an hour ago for `days` days.
 */
export function createSelfSignedCertificate(options: {
  commonName: string;
  altNames: string[];
  days?: number;
  now?: Date;
}): SelfSignedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 3_600_000);
  const notAfter = new Date(now.getTime() + (options.days ?? 3650) * 86_400_000);
  const ecdsaWithSha256 = sequence(oid("1.2.840.10045.4.3.2"));
  const name = sequence(set(sequence(oid("2.5.4.3"), utf8(options.commonName))));
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const altNames = sequence(
    ...options.altNames.map((alt) => (isIP(alt) ? der(0x87, ipBytes(alt)) : der(0x82, Buffer.from(alt, "ascii")))),
  );
  const extensions = explicit(
    3,
    sequence(
      sequence(oid("2.5.29.19"), der(0x04, sequence())), // basicConstraints: not a CA
      sequence(oid("2.5.29.17"), der(0x04, altNames)),
    ),
  );
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ecdsaWithSha256,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    extensions,
  );
  const signature = sign("sha256", tbs, privateKey);
  const certificate = sequence(tbs, ecdsaWithSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const base64 = certificate.toString("base64").replace(/.{64}/g, "$&\n");
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${base64.replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  };
}
