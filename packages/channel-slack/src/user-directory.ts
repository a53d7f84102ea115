import type { ChannelLogger } from "@gateway/plugin-sdk";
import type { webApi } from "@slack/bolt";

/** A person's names as the agent sees them. */
export interface SlackPerson {
  name: string;
  username: string;
}

const LIMIT = 5_000;
const FAILED_RETRY_MS = 5 * 60_000;

/**
 * Display names of the workspace's users (users.info), cached: a message from someone seen before costs no call; a
 * lookup that fails (or takes longer than `timeoutMs`) leaves the id as the name and is not tried again for 5 minutes.
 */
export class UserDirectory {
  readonly #people = new Map<string, SlackPerson>();
  readonly #failed = new Map<string, number>();
  readonly #loading = new Map<string, Promise<void>>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly logger: ChannelLogger,
    private readonly timeoutMs = 3_000,
  ) {}

  get(userId: string): SlackPerson | undefined {
    return this.#people.get(userId);
  }

  /** Learn a name without a call (the bot's own, from auth.test). */
  set(userId: string, person: SlackPerson): void {
    this.#people.set(userId, person);
  }

  /** Look up the ids not known yet, in parallel, within the timeout. */
  async load(userIds: Iterable<string>): Promise<void> {
    const now = Date.now();
    const waits: Promise<void>[] = [];
    for (const userId of new Set(userIds)) {
      if (this.#people.has(userId) || now - (this.#failed.get(userId) ?? -Infinity) < FAILED_RETRY_MS) continue;
      let loading = this.#loading.get(userId);
      if (!loading) {
        loading = this.#fetch(userId).finally(() => this.#loading.delete(userId));
        this.#loading.set(userId, loading);
      }
      waits.push(loading);
    }
    if (waits.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(waits),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  async #fetch(userId: string): Promise<void> {
    try {
      const { user } = await this.client.users.info({ user: userId });
      const name = user?.profile?.display_name || user?.real_name || user?.name || userId;
      if (this.#people.size >= LIMIT) this.#people.delete(this.#people.keys().next().value!);
      this.#people.set(userId, { name: user?.real_name || name, username: user?.name ?? userId });
    } catch (error) {
      this.#failed.set(userId, Date.now());
      if (this.#failed.size > LIMIT) this.#failed.delete(this.#failed.keys().next().value!);
      this.logger.debug(`slack: users.info ${userId} failed: ${(error as Error).message}`);
    }
  }
}
