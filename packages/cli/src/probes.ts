// Real checks of what the config points at, each with a short timeout: is Redis answering, does the model endpoint
// answer, is a port free. `gateway doctor` uses them; none of them changes anything.
import { connect as connectTcp, createServer } from "node:net";
import { connect as connectTls } from "node:tls";

/** Whether nothing listens on host:port. */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** PING a Redis server: ok, or what went wrong (connection refused, timeout, auth). */
export function pingRedis(url: string, timeoutMs = 2000): Promise<{ ok: boolean; detail: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve({ ok: false, detail: `"${url}" is not a URL (redis://host:6379)` });
  }
  const host = parsed.hostname || "127.0.0.1";
  const port = Number(parsed.port || 6379);
  const password = decodeURIComponent(parsed.password);
  const user = decodeURIComponent(parsed.username);
  return new Promise((resolve) => {
    const socket =
      parsed.protocol === "rediss:" ? connectTls({ host, port, servername: host }) : connectTcp({ host, port });
    let answer = "";
    const finish = (result: { ok: boolean; detail: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, detail: `no answer from ${host}:${port} in ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once(parsed.protocol === "rediss:" ? "secureConnect" : "connect", () => {
      const auth = password ? (user ? `AUTH ${user} ${password}\r\n` : `AUTH ${password}\r\n`) : "";
      socket.write(`${auth}PING\r\n`);
    });
    socket.on("data", (chunk) => {
      answer += chunk.toString("utf8");
      if (answer.includes("+PONG")) finish({ ok: true, detail: `answers at ${host}:${port}` });
      else if (/^-/m.test(answer))
        finish({ ok: false, detail: `${host}:${port} answered ${answer.trim().split("\r\n")[0]}` });
    });
    socket.once("error", (error: NodeJS.ErrnoException) =>
      finish({ ok: false, detail: `cannot reach ${host}:${port} (${error.code ?? error.message})` }),
    );
  });
}

/** `GET <baseUrl>/models` on an OpenAI-compatible server: does it answer, and does it know the model. */
export async function probeModelEndpoint(
  target: { baseUrl: string; apiKey?: string; model: string },
  timeoutMs = 3000,
): Promise<{ ok: boolean; detail: string }> {
  const url = `${target.baseUrl.replace(/\/+$/, "")}/models`;
  try {
    const response = await fetch(url, {
      headers: target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 401 || response.status === 403)
      return { ok: false, detail: `${url} refused the API key (${response.status})` };
    if (!response.ok) return { ok: false, detail: `${url} answered ${response.status}` };
    const body = (await response.json().catch(() => undefined)) as { data?: Array<{ id?: string }> } | undefined;
    const ids = body?.data?.map((model) => model.id).filter(Boolean) ?? [];
    if (ids.length > 0 && !ids.includes(target.model))
      return {
        ok: false,
        detail: `${url} answers but has no model "${target.model}" (it has ${ids.slice(0, 5).join(", ")})`,
      };
    return { ok: true, detail: `${url} answers${ids.length ? ` and has ${target.model}` : ""}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const name = (error as Error).name;
    return {
      ok: false,
      detail:
        name === "TimeoutError"
          ? `${url}: no answer in ${timeoutMs} ms`
          : `${url}: ${cause ?? (error as Error).message}`,
    };
  }
}
