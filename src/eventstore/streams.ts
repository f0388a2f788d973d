import type { EventStore } from './types.js';

/**
 * Every stream whose name starts with `prefix`, in order of creation, read page by page. Stops at
 * the first short page: on EventStoreDB each extra page is a scan of $all, so no empty page is
 * asked for once the last one came back short.
 */
export async function* streamsWithPrefix(store: EventStore, prefix: string, pageSize = 1000): AsyncGenerator<string> {
  let after = 0n;
  for (;;) {
    const page = await store.listStreams(prefix, after, pageSize);
    for (const entry of page) yield entry.stream;
    const last = page[page.length - 1];
    if (last === undefined || page.length < pageSize) return;
    after = last.position;
  }
}
