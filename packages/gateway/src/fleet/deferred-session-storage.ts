import type { SessionStorage } from "@gateway/agent";

/**
 * A session store that exists only once a service has started (the fleet's, on Redis): until then the index reads
 * as empty and every other call waits for it.
 */
export function deferredSessionStorage(storage: Promise<SessionStorage>, indexPath: string): SessionStorage {
  let real: SessionStorage | undefined;
  const ready = storage.then(async (store) => {
    await store.ready;
    real = store;
  });
  const later =
    <Name extends keyof SessionStorage>(name: Name) =>
    async (...args: unknown[]) => {
      await ready;
      return (real![name] as (...inner: unknown[]) => unknown)(...args);
    };
  return {
    indexPath,
    ready,
    list: () => real?.list() ?? [],
    get: (key) => real?.get(key),
    // Listeners are added before the store exists (at composition): pass them on once it does.
    onAppend(listener) {
      let unsubscribe: (() => void) | undefined;
      let cancelled = false;
      void ready.then(() => {
        if (!cancelled) unsubscribe = real!.onAppend(listener);
      });
      return () => {
        cancelled = true;
        unsubscribe?.();
      };
    },
    ensure: later("ensure") as SessionStorage["ensure"],
    append: later("append") as SessionStorage["append"],
    transcriptBytes: later("transcriptBytes") as SessionStorage["transcriptBytes"],
    addUsage: later("addUsage") as SessionStorage["addUsage"],
    history: later("history") as SessionStorage["history"],
    messageCount: later("messageCount") as SessionStorage["messageCount"],
    compact: later("compact") as SessionStorage["compact"],
    patch: later("patch") as SessionStorage["patch"],
    reset: later("reset") as SessionStorage["reset"],
    delete: later("delete") as SessionStorage["delete"],
    flush: () => (real ? real.flush() : Promise.resolve()),
  };
}
