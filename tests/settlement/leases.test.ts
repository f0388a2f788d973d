import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { createMemoryLeases, createSqliteLeases, type Leases } from '../../src/settlement/leases.js';
import { createStoreLeases } from '../../src/settlement/storeLeases.js';

const kinds: Array<[string, () => { a: Leases; b: Leases }]> = [
  ['memory (one process)', () => { const l = createMemoryLeases(); return { a: l, b: l }; }],
  ['sqlite file (processes sharing a data dir)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'otc-lease-')), 'leases.db');
    return { a: createSqliteLeases(file), b: createSqliteLeases(file) };
  }],
  ['event store (instances sharing only the store)', () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    return { a: createStoreLeases(store), b: createStoreLeases(store) };
  }],
];

describe.each(kinds)('order leases: %s', (_name, make) => {
  it('grants a free lease, refuses it to another owner, and extends it for its holder', async () => {
    const { a, b } = make();
    expect(await a.acquire('order-driver:x', 'one', 1000, 0)).toBe(true);
    expect(await b.acquire('order-driver:x', 'two', 1000, 10)).toBe(false);
    expect(await a.acquire('order-driver:x', 'one', 1000, 20)).toBe(true);
    expect(await b.acquire('order-driver:y', 'two', 1000, 20)).toBe(true);
  });

  it('lets another owner take a lease once it has expired (a crashed holder cannot wedge an order)', async () => {
    const { a, b } = make();
    expect(await a.acquire('order-driver:x', 'one', 1000, 0)).toBe(true);
    expect(await b.acquire('order-driver:x', 'two', 1000, 999)).toBe(false);
    expect(await b.acquire('order-driver:x', 'two', 1000, 1000)).toBe(true);
  });

  it('frees a lease on release by its holder only', async () => {
    const { a, b } = make();
    expect(await a.acquire('order-driver:x', 'one', 60_000, 0)).toBe(true);
    await b.release('order-driver:x', 'two');
    expect(await b.acquire('order-driver:x', 'two', 60_000, 1)).toBe(false);
    await a.release('order-driver:x', 'one');
    expect(await b.acquire('order-driver:x', 'two', 60_000, 2)).toBe(true);
  });
});
