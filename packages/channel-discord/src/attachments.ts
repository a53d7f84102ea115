import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MediaRef } from "@gateway/plugin-sdk";

/** An attachment as discord.js shows it. */
export interface AttachmentLike {
  id: string;
  name: string;
  size: number;
  url: string;
  contentType: string | null;
}

/** The SDK's kind of a file, from its MIME type. */
export function mediaKind(contentType: string | null | undefined): MediaRef["kind"] {
  if (!contentType) return "document";
  if (contentType.startsWith("image/")) return "photo";
  if (contentType.startsWith("video/")) return "video";
  if (contentType.startsWith("audio/ogg")) return "voice";
  if (contentType.startsWith("audio/")) return "audio";
  return "document";
}

/** A file name safe on every file system, keeping the extension. */
const safeName = (name: string) =>
  name
    .replace(/[^\w.-]+/g, "_")
    .replace(/^\.+/, "")
    .slice(-100) || "file";

/** Read a response body, giving up (undefined) once it passes `maxBytes`. */
async function readCapped(response: Response, maxBytes: number): Promise<Buffer | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * Save a message's attachments under `directory` (mode 0600), each at most `maxBytes`: larger ones (by their declared
 * size, or found larger while downloading) and failed downloads are listed without a path, so the agent knows they
 * exist. Downloads run in parallel, each bounded by a timeout.
 */
export async function downloadAttachments(
  attachments: readonly AttachmentLike[],
  options: {
    directory: string;
    prefix: string;
    maxBytes: number;
    timeoutMs?: number;
    onError?: (error: Error) => void;
  },
): Promise<MediaRef[]> {
  if (attachments.length === 0) return [];
  await mkdir(options.directory, { recursive: true, mode: 0o700 });
  return Promise.all(
    attachments.map(async (attachment) => {
      const reference: MediaRef = {
        kind: mediaKind(attachment.contentType),
        fileName: attachment.name,
        size: attachment.size,
        ...(attachment.contentType ? { mimeType: attachment.contentType } : {}),
      };
      if (attachment.size > options.maxBytes || !/^https?:\/\//.test(attachment.url)) return reference;
      try {
        const response = await fetch(attachment.url, { signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
        if (!response.ok) throw new Error(`attachment download answered ${response.status}`);
        const content = await readCapped(response, options.maxBytes);
        if (!content) return reference;
        const path = join(options.directory, `${options.prefix}-${attachment.id}-${safeName(attachment.name)}`);
        await writeFile(path, content, { mode: 0o600 });
        return { ...reference, path, size: content.length };
      } catch (error) {
        options.onError?.(error as Error);
        return reference;
      }
    }),
  );
}
