// The shared secret the user gave this browser: taken from the URL fragment the CLI prints
// (`http://127.0.0.1:18789/#token=…`, never the query string, so it reaches neither the server's logs nor a proxy)
// or typed into the sign-in form, then kept in this origin's localStorage until the user signs out.

/** A token or a password for the gateway. */
export type Credentials = { token: string } | { password: string };

const KEY = "gateway.credentials.v1";

/** Take `#token=…` / `#password=…` out of the address bar (it stays in no history entry) and keep it. */
export function takeFragmentCredentials(location: Location, history: History): Credentials | undefined {
  const fragment = new URLSearchParams(location.hash.replace(/^#\/?/, ""));
  const token = fragment.get("token")?.trim();
  const password = fragment.get("password")?.trim();
  const found: Credentials | undefined = token ? { token } : password ? { password } : undefined;
  if (!found) return undefined;
  saveCredentials(found);
  history.replaceState(null, "", `${location.pathname}${location.search}`);
  return found;
}

/** The kept credentials, if any. */
export function loadCredentials(): Credentials | undefined {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? "null") as Partial<Record<string, unknown>> | null;
    if (typeof value?.token === "string" && value.token) return { token: value.token };
    if (typeof value?.password === "string" && value.password) return { password: value.password };
  } catch {
    // unreadable: as if none
  }
  return undefined;
}

/** Keep credentials for the next visit. */
export function saveCredentials(credentials: Credentials): void {
  localStorage.setItem(KEY, JSON.stringify(credentials));
}

/** Forget them (sign out). */
export function clearCredentials(): void {
  localStorage.removeItem(KEY);
}
