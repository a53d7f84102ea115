// Inbound media, saved under the account's state dir with a size cap: a file announced larger than the cap is not
// fetched, and a download that grows past it is stopped and removed (the announced size is the sender's word).
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { extname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { MediaRef } from "@gateway/plugin-sdk";
import { type DownloadableMessage, downloadContentFromMessage } from "@whiskeysockets/baileys";
import type { MediaPart } from "./normalize.js";

const EXTENSIONS: Record<string, string> = {
  "image/jpeg": ".jpg",
  "image/png": ".png",
  "image/webp": ".webp",
  "image/gif": ".gif",
  "video/mp4": ".mp4",
  "audio/ogg": ".ogg",
  "audio/mpeg": ".mp3",
  "audio/mp4": ".m4a",
  "application/pdf": ".pdf",
  "text/plain": ".txt",
};

/** A file extension for a media part: its file name's, else its MIME type's. */
export function extensionOf(reference: MediaRef): string {
  const fromName = reference.fileName ? extname(reference.fileName) : "";
  if (/^\.[\w-]{1,10}$/.test(fromName)) return fromName;
  const mime = reference.mimeType?.split(";")[0]?.trim().toLowerCase();
  return (mime && EXTENSIONS[mime]) || "";
}

/** Thrown when a download passes the cap. */
class TooLarge extends Error {}

/**
 * Download and decrypt a message's media into `<directory>/<time>-<id><ext>` (0600). Too large: the reference
 * without a path (the agent is told it was not downloaded).
 */
export async function saveMedia(
  part: MediaPart,
  options: { directory: string; messageId: string; maxBytes: number; timeoutMs?: number },
): Promise<MediaRef> {
  const { reference } = part;
  if ((reference.size ?? 0) > options.maxBytes) return reference;
  await mkdir(options.directory, { recursive: true, mode: 0o700 });
  const name = `${Date.now()}-${options.messageId.replace(/[^\w-]/g, "_").slice(0, 64)}${extensionOf(reference)}`;
  const path = join(options.directory, name);
  const partial = `${path}.part`;
  const stream = await downloadContentFromMessage(part.content as DownloadableMessage, part.type, {
    options: { signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) },
  });
  let size = 0;
  try {
    await pipeline(
      stream,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          size += chunk.length;
          if (size > options.maxBytes) throw new TooLarge();
          yield chunk;
        }
      },
      createWriteStream(partial, { mode: 0o600 }),
    );
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof TooLarge) return { ...reference, size };
    throw error;
  }
  await rename(partial, path);
  return { ...reference, path, size };
}
