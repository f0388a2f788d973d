import { useEffect, useState } from 'preact/hooks';

/** A value with subscribers: the few pieces of state the pages share (wallets, sandbox, token). */
export interface Store<T> {
  get(): T;
  set(next: T): void;
  subscribe(listener: (value: T) => void): () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<(value: T) => void>();
  return {
    get: () => value,
    set(next) {
      value = next;
      for (const l of listeners) l(value);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.get());
  useEffect(() => store.subscribe(setValue), [store]);
  return value;
}

/** Re-renders every `intervalMs` with the current time: deadlines counting down. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** Calls `load` now and every `intervalMs` while mounted (and while `active`). */
export function usePoll(load: () => Promise<void> | void, intervalMs: number, deps: unknown[], active = true): void {
  useEffect(() => {
    if (!active) return undefined;
    let stopped = false;
    const tick = async () => {
      if (!stopped) await load();
    };
    void tick();
    const timer = setInterval(() => void tick(), intervalMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, active, intervalMs]);
}
