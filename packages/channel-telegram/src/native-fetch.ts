/**
 * Node's own fetch for grammY instead of its bundled node-fetch 2 (which prints deprecation warnings at every start
 * and, once bundled, refuses the abort signals grammY gives it). grammY aborts through an `abort-controller` polyfill
 * signal: it is bridged to a native one. Upload bodies (multipart streams) are sent half-duplex.
 */
export const nativeFetch = ((url: string | URL, init: RequestInit & { signal?: unknown } = {}) => {
  const polyfill = init.signal as
    | { aborted: boolean; addEventListener(type: "abort", listener: () => void): void }
    | undefined
    | null;
  let signal: AbortSignal | undefined;
  if (polyfill) {
    const controller = new AbortController();
    if (polyfill.aborted) controller.abort();
    else polyfill.addEventListener("abort", () => controller.abort());
    signal = controller.signal;
  }
  const streamed = init.body !== undefined && init.body !== null && typeof init.body !== "string";
  return globalThis.fetch(url, {
    method: init.method ?? "GET",
    ...(init.headers ? { headers: init.headers } : {}),
    ...(init.body !== undefined ? { body: init.body } : {}),
    ...(streamed ? { duplex: "half" } : {}),
    ...(signal ? { signal } : {}),
  } as RequestInit);
}) as unknown as typeof fetch;
