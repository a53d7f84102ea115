// `gateway.tls.autoGenerate`: a self-signed certificate and key made once in <stateDir>/tls/ (the key 0600, the
// directory 0700) and reused on every start, so a client that pinned its fingerprint keeps working.
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createSelfSignedCertificate } from "./self-signed-certificate.js";

export interface GeneratedCertificate {
  cert: Buffer;
  key: Buffer;
  certPath: string;
  keyPath: string;
  /** True when this call made it (the first start). */
  created: boolean;
}

/** Where the generated pair lives in a state dir. */
export function generatedCertificatePaths(stateDir: string): { certPath: string; keyPath: string } {
  return { certPath: join(stateDir, "tls", "cert.pem"), keyPath: join(stateDir, "tls", "key.pem") };
}

function writePrivate(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** The generated pair of the state dir, made now when it does not exist yet. */
export function ensureGeneratedCertificate(stateDir: string): GeneratedCertificate {
  const { certPath, keyPath } = generatedCertificatePaths(stateDir);
  let created = false;
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(join(stateDir, "tls"), { recursive: true, mode: 0o700 });
    const pair = createSelfSignedCertificate({
      commonName: "gateway",
      altNames: [...new Set(["localhost", hostname(), "127.0.0.1", "::1"])],
    });
    writePrivate(keyPath, pair.keyPem); // the key first: a certificate without its key is never left behind
    writePrivate(certPath, pair.certPem);
    created = true;
  }
  return { cert: readFileSync(certPath), key: readFileSync(keyPath), certPath, keyPath, created };
}

/** The SHA-256 fingerprint of a PEM certificate, as Node's `X509Certificate.fingerprint256` (AB:CD:…). */
export function certificateFingerprint(cert: string | Buffer): string {
  return new X509Certificate(cert).fingerprint256;
}
