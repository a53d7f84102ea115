// Read our QR renderings back as a phone would: jsQR on the pixels (of the PNG, or of the terminal's blocks).
import { inflateSync } from "node:zlib";
import * as jsqr from "jsqr";

type Scanner = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
// jsQR is CommonJS with an ES default: take whichever form the loader hands over.
const jsQR: Scanner = (jsqr as unknown as { default?: Scanner }).default ?? (jsqr as unknown as Scanner);

/** RGBA pixels of a 1-bit greyscale PNG without filters (what renderQrPng writes). */
export function decodePng(png: Buffer): { width: number; height: number; data: Uint8ClampedArray } {
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString("ascii");
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 1 || data[9] !== 0) throw new Error("not a 1-bit greyscale PNG");
    }
    if (type === "IDAT") idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rowBytes = Math.ceil(width / 8);
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    if (raw[y * (rowBytes + 1)] !== 0) throw new Error("unexpected PNG filter");
    for (let x = 0; x < width; x++) {
      const bit = (raw[y * (rowBytes + 1) + 1 + (x >> 3)]! >> (7 - (x & 7))) & 1;
      pixels.fill(bit ? 255 : 0, (y * width + x) * 4, (y * width + x) * 4 + 3);
      pixels[(y * width + x) * 4 + 3] = 255;
    }
  }
  return { width, height, data: pixels };
}

/** What a scanner reads from pixels. */
export const scan = (image: { width: number; height: number; data: Uint8ClampedArray }) =>
  jsQR(image.data, image.width, image.height)?.data;

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ANSI escape is what is taken out
const ANSI = /\x1b\[[0-9;]*m/g;

/** Pixels of the terminal rendering: a block is light, a blank dark, each character two rows (4 px per module). */
export function terminalPixels(text: string, scale = 4) {
  const lines = text.replaceAll(ANSI, "").split("\n").filter(Boolean);
  const columns = [...lines[0]!].length;
  const rows = lines.length * 2;
  const width = columns * scale;
  const height = rows * scale;
  const data = new Uint8ClampedArray(width * height * 4);
  lines.forEach((line, lineIndex) => {
    [...line].forEach((character, column) => {
      const top = character === "█" || character === "▀";
      const bottom = character === "█" || character === "▄";
      for (const [row, light] of [
        [lineIndex * 2, top],
        [lineIndex * 2 + 1, bottom],
      ] as const)
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++) {
            const index = ((row * scale + dy) * width + column * scale + dx) * 4;
            data.fill(light ? 255 : 0, index, index + 3);
            data[index + 3] = 255;
          }
    });
  });
  return { width, height, data };
}
