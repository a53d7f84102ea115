// Messages sent but not yet confirmed by the gateway, kept in localStorage so that neither a dropped connection
// nor a reload loses them. Each keeps the idempotency key it was first sent with: a retry with the same key is
// answered by the gateway from its idempotency cache instead of running twice.

/** One message on its way. */
export interface OutboxItem {
  idempotencyKey: string;
  sessionKey: string;
  text: string;
  createdAt: number;
  /** `sending` while a request is out; `unconfirmed` when the gateway went away before answering. */
  state: "sending" | "unconfirmed";
}

const KEY = "gateway.outbox.v1";

function read(): OutboxItem[] {
  try {
    const items = JSON.parse(localStorage.getItem(KEY) ?? "[]") as unknown;
    return Array.isArray(items)
      ? (items as OutboxItem[]).filter((item) => typeof item?.idempotencyKey === "string")
      : [];
  } catch {
    return [];
  }
}

function write(items: OutboxItem[]): void {
  if (items.length === 0) localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, JSON.stringify(items));
}

/** The outbox of this browser. */
export const outbox = {
  /** Items of one session, oldest first. A reload finds what was `sending` as `unconfirmed`. */
  of(sessionKey: string): OutboxItem[] {
    return read().filter((item) => item.sessionKey === sessionKey);
  },
  put(item: OutboxItem): void {
    write([...read().filter((other) => other.idempotencyKey !== item.idempotencyKey), item]);
  },
  remove(idempotencyKey: string): void {
    write(read().filter((item) => item.idempotencyKey !== idempotencyKey));
  },
  /** On load: nothing is in flight any more. */
  settleAfterReload(): void {
    write(read().map((item) => ({ ...item, state: "unconfirmed" as const })));
  },
};

/** Drafts per session, so a reconnect or a reload never loses what the user was typing. */
export const drafts = {
  get: (sessionKey: string): string => localStorage.getItem(`gateway.draft.v1:${sessionKey}`) ?? "",
  set(sessionKey: string, text: string): void {
    if (text) localStorage.setItem(`gateway.draft.v1:${sessionKey}`, text);
    else localStorage.removeItem(`gateway.draft.v1:${sessionKey}`);
  },
};
