import { describe, expect, it } from "vitest";
import { qrDataUrl, renderQrPng, renderQrTerminal } from "../src/qr.js";
import { decodePng, scan, terminalPixels } from "./qr-decode.js";

// What a WhatsApp QR carries: ref,noiseKey,identityKey,advSecret (base64), ~240 characters.
const LOGIN_QR =
  "2@Wr0DLxNpe5Tt2xKq8GQyhBZ2kp0aBkBbDQn1c7o3vUQhq1xXvD0X8w4Gk1yHfTXBoT1Lr4c1Q7nFvVg9mW==,iWm3q5y0x6Lq0N0pH2YHc1QeJ3Z2rG7h1b4c9d8e7f6=,Yk2m4N6p8R0t2V4x6Z8b0D2f4H6j8L0n2P4r6T8v0X=,Qm9w8E7r6T5y4U3i2O1p0A9s8D7f6G5h4J3k2L1z0X=";

describe("login QR", () => {
  it("the PNG scans back to the login string", () => {
    const png = renderQrPng(LOGIN_QR);
    expect(png.subarray(1, 4).toString("ascii")).toBe("PNG");
    expect(scan(decodePng(png))).toBe(LOGIN_QR);
  });

  it("the data URL is that PNG", () => {
    const url = qrDataUrl(LOGIN_QR);
    expect(url.startsWith("data:image/png;base64,")).toBe(true);
    // Small enough for web.login.wait's currentQrDataUrl (at most 16,384 characters in the protocol).
    expect(url.length).toBeLessThan(16_384);
    expect(scan(decodePng(Buffer.from(url.split(",")[1]!, "base64")))).toBe(LOGIN_QR);
  });

  it("the terminal rendering scans back too (with and without ANSI colours)", () => {
    const colored = renderQrTerminal(LOGIN_QR);
    expect(colored).toContain("\x1b[97;40m");
    expect(scan(terminalPixels(colored))).toBe(LOGIN_QR);
    const plain = renderQrTerminal(LOGIN_QR, { color: false, margin: 3 });
    expect(plain).not.toContain("\x1b");
    expect(scan(terminalPixels(plain))).toBe(LOGIN_QR);
    // Two rows of modules per line: a terminal of 80×40 holds it.
    expect(plain.split("\n").filter(Boolean).length).toBeLessThan(40);
  });
});
