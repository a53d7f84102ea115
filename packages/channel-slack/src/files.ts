import { mkdir, open, rm } from "node:fs/promises";
import { extname, join } from "node:path";
import type { ChannelLogger, MediaRef } from "@gateway/plugin-sdk";
import type { webApi } from "@slack/bolt";
import type { SlackFile } from "./normalize.js";

/** What downloading a message's files needs. */
export interface DownloadOptions {
  client: webApi.WebClient;
  botToken: string;
  /** Origins the bot token may be sent to: Slack's file hosts and the configured API's own. */
  trustedOrigin(url: URL): boolean;
  directory: string;
  maxBytes: number;
  logger: ChannelLogger;
}

const kindOf = (mimetype: string | undefined): MediaRef["kind"] => {
  if (mimetype?.startsWith("image/")) return "photo";
  if (mimetype?.startsWith("audio/")) return "audio";
  if (mimetype?.startsWith("video/")) return "video";
  return "document";
};

/** Slack's own file hosts (files.slack.com, files-origin.slack.com, …), over https. */
export const isSlackFileHost = (url: URL): boolean =>
  url.protocol === "https:" && (url.hostname === "slack.com" || url.hostname.endsWith(".slack.com"));

/**
 * Save a message's files under `directory` (downloaded with the bot token, which is sent only to Slack's file hosts),
 * each at most `maxBytes` (larger ones, and ones that fail, are passed on as a reference without a path).
 */
export async function downloadFiles(
  files: SlackFile[],
  messageTs: string,
  options: DownloadOptions,
): Promise<MediaRef[]> {
  const references: MediaRef[] = [];
  for (const listed of files) {
    let file = listed;
    if (!file.url_private_download && !file.url_private) {
      const info = await options.client.files.info({ file: file.id }).catch(() => undefined);
      if (info?.file) file = info.file as SlackFile;
    }
    const reference: MediaRef = {
      kind: kindOf(file.mimetype),
      ...(file.mimetype ? { mimeType: file.mimetype } : {}),
      ...(file.name ? { fileName: file.name } : {}),
      ...(file.size !== undefined ? { size: file.size } : {}),
    };
    const address = file.url_private_download ?? file.url_private;
    if (!address || (file.size ?? 0) > options.maxBytes) {
      references.push(reference);
      continue;
    }
    try {
      const path = join(options.directory, `${messageTs.replace(".", "-")}-${file.id}${extname(file.name ?? "")}`);
      const size = await download(new URL(address), path, options);
      references.push({ ...reference, path, size });
    } catch (error) {
      options.logger.warn(`slack: could not download ${file.name ?? file.id}: ${(error as Error).message}`);
      references.push(reference);
    }
  }
  return references;
}

async function download(url: URL, path: string, options: DownloadOptions): Promise<number> {
  if (!options.trustedOrigin(url))
    throw new Error(`${url.origin} is not a Slack file host: the bot token is not sent there`);
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${options.botToken}` },
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok || !response.body) throw new Error(`the download answered ${response.status}`);
  // Without a valid token (or files:read) Slack answers 200 with its sign-in page.
  if ((response.headers.get("content-type") ?? "").startsWith("text/html"))
    throw new Error("Slack answered with its sign-in page: the bot token needs the files:read scope");
  await mkdir(options.directory, { recursive: true, mode: 0o700 });
  const handle = await open(path, "w", 0o600);
  const reader = response.body.getReader();
  let size = 0;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      size += chunk.value.byteLength;
      if (size > options.maxBytes) throw new Error(`larger than ${options.maxBytes} bytes`);
      await handle.write(chunk.value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    await handle.close();
    await rm(path, { force: true });
    throw error;
  }
  await handle.close();
  return size;
}
