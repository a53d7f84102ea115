// The login QR for people: in a terminal (half blocks, two modules per character) and as a PNG data URL for the
// Control UI. qrcode-generator (pure JS, no dependencies) computes the modules; the PNG is written here (1 bit per
// pixel, deflated), so nothing native is needed.
import { crc32, deflateSync } from "node:zlib";
import qrcode from "qrcode-generator";

/** The QR's modules: `dark[row][column]`. Error correction L, like WhatsApp Web's own code. */
export function qrModules(text: string): boolean[][] {
  const code = qrcode(0, "L");
  code.addData(text, "Byte");
  code.make();
  const count = code.getModuleCount();
  return Array.from({ length: count }, (_, row) =>
    Array.from({ length: count }, (_, column) => code.isDark(row, column)),
  );
}

/** Options of the terminal rendering. */
export interface TerminalQrOptions {
  /** Quiet zone around the code, in modules. @default 2 */
  margin?: number;
  /** Force white-on-black with ANSI colours, so the code has the right polarity on light themes too. @default true */
  color?: boolean;
}

/**
 * The QR for a terminal: each character holds two rows of modules ("▀", "▄", "█", " "), light modules printed as
 * blocks, dark ones blank, inside a quiet zone.
 */
export function renderQrTerminal(text: string, options: TerminalQrOptions = {}): string {
  const margin = options.margin ?? 2;
  const modules = qrModules(text);
  const size = modules.length + margin * 2;
  const light = (row: number, column: number) => {
    if (row >= size) return false;
    const inner = modules[row - margin]?.[column - margin];
    return inner === undefined ? true : !inner;
  };
  const lines: string[] = [];
  for (let row = 0; row < size; row += 2) {
    let line = "";
    for (let column = 0; column < size; column++) {
      const top = light(row, column);
      const bottom = light(row + 1, column);
      line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    lines.push(options.color === false ? line : `\x1b[97;40m${line}\x1b[0m`);
  }
  return `${lines.join("\n")}\n`;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, checksum]);
}

/** The QR as a PNG (black on white, `scale` pixels per module, a 4-module quiet zone). */
export function renderQrPng(text: string, scale = 8, margin = 4): Buffer {
  const modules = qrModules(text);
  const size = (modules.length + margin * 2) * scale;
  const rowBytes = Math.ceil(size / 8);
  const raw = Buffer.alloc((rowBytes + 1) * size);
  for (let y = 0; y < size; y++) {
    const offset = y * (rowBytes + 1);
    raw[offset] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const dark = modules[Math.floor(y / scale) - margin]?.[Math.floor(x / scale) - margin] === true;
      // Greyscale 1 bit: 1 is white.
      if (!dark) raw[offset + 1 + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(raw)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The QR as a `data:image/png;base64,…` URL (for an `<img>` in the Control UI). */
export function qrDataUrl(text: string): string {
  return `data:image/png;base64,${renderQrPng(text).toString("base64")}`;
}
