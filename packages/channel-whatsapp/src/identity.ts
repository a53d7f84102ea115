// WhatsApp addresses a person by phone number (`15551234567@s.whatsapp.net`) or, more and more, by a privacy id
// (`…@lid`) that does not reveal the number. The same person can arrive either way, so identities are keyed by LID
// when one is known, and the phone-number forms travel along as aliases: an allowlist entry `+15551234567` (or a
// pairing approval stored under the phone JID) still matches that person when they write by LID.

const USER = /^(\d+)(?:[:_]\d+)*@(s\.whatsapp\.net|c\.us|lid)$/;
const GROUP = /^[\d-]+@g\.us$/;

/** The user part of a JID without device (`15551234567:3@s.whatsapp.net` → `15551234567@s.whatsapp.net`). */
export function normalizeJid(jid: string): string {
  const match = USER.exec(jid.trim());
  if (!match) return jid.trim();
  const server = match[2] === "c.us" ? "s.whatsapp.net" : match[2];
  return `${match[1]}@${server}`;
}

export const isLidJid = (jid: string | null | undefined): jid is string => Boolean(jid?.endsWith("@lid"));
export const isPhoneJid = (jid: string | null | undefined): jid is string =>
  Boolean(jid && /@(s\.whatsapp\.net|c\.us)$/.test(jid));
export const isGroupJid = (jid: string | null | undefined): jid is string => Boolean(jid && GROUP.test(jid));

/** `+15551234567`, `15551234567` or a JID in any of its spellings → the phone JID; undefined for anything else. */
export function phoneJidOf(value: string): string | undefined {
  const trimmed = value.trim();
  if (/^\+?\d{4,15}$/.test(trimmed)) return `${trimmed.replace(/^\+/, "")}@s.whatsapp.net`;
  const jid = normalizeJid(trimmed);
  return isPhoneJid(jid) ? jid : undefined;
}

/** `+15551234567` for a phone JID. */
export const e164Of = (phoneJid: string) => `+${phoneJid.split("@")[0]}`;

/**
 * Who someone is: the stable id and the other forms that mean the same person. The id is the LID JID when one is
 * known (`123456789@lid`), else the phone number's digits (`15551234567`, WhatsApp's `wa_id`).
 */
export interface Identity {
  id: string;
  aliases: string[];
}

/** The forms a phone JID is written in, for allowlists: `+15551234567`, `15551234567`, the JID. */
const phoneForms = (phoneJid: string) => [e164Of(phoneJid), phoneJid.split("@")[0]!, phoneJid];

/**
 * LID ↔ phone number, learnt from what WhatsApp tells (message envelopes carrying both forms, Baileys' mapping
 * events, contacts). Bounded: the oldest pairs go first.
 */
export class IdentityDirectory {
  readonly #lidByPhone = new Map<string, string>();
  readonly #phoneByLid = new Map<string, string>();
  readonly #limit: number;

  constructor(limit = 50_000) {
    this.#limit = limit;
  }

  /** Two JIDs of one person (either order; anything that is not one LID and one phone JID is ignored). */
  learn(first: string | null | undefined, second: string | null | undefined): void {
    if (!first || !second) return;
    const a = normalizeJid(first);
    const b = normalizeJid(second);
    const lid = isLidJid(a) ? a : isLidJid(b) ? b : undefined;
    const phone = isPhoneJid(a) ? a : isPhoneJid(b) ? b : undefined;
    if (!lid || !phone) return;
    this.#lidByPhone.delete(phone);
    this.#lidByPhone.set(phone, lid);
    this.#phoneByLid.delete(lid);
    this.#phoneByLid.set(lid, phone);
    if (this.#lidByPhone.size > this.#limit) this.#lidByPhone.delete(this.#lidByPhone.keys().next().value!);
    if (this.#phoneByLid.size > this.#limit) this.#phoneByLid.delete(this.#phoneByLid.keys().next().value!);
  }

  lidFor(phoneJid: string): string | undefined {
    return this.#lidByPhone.get(normalizeJid(phoneJid));
  }

  phoneFor(lid: string): string | undefined {
    return this.#phoneByLid.get(normalizeJid(lid));
  }

  /** The identity of a sender seen as `jid` (with `alternate`, the other form the envelope carried, if any). */
  identify(jid: string, alternate?: string | null): Identity {
    this.learn(jid, alternate);
    const normalized = normalizeJid(jid);
    const lid = isLidJid(normalized) ? normalized : this.lidFor(normalized);
    const phone = isPhoneJid(normalized) ? normalized : this.phoneFor(normalized);
    const id = lid ?? (phone ? phone.split("@")[0]! : normalized);
    const aliases = phone ? phoneForms(phone).filter((alias) => alias !== id) : [];
    return { id, aliases };
  }
}
