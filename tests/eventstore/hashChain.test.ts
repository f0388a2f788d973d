import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import { handleOrderCommand } from '../../src/commands/handleCommand.js';
import { verifyLedger } from '../../src/audit/verify.js';
import { canonicalJson, CHAIN_V2, CHAIN_V3, chainHash, chainHashV2, chainHashV3, GENESIS_HASH, verifyChain } from '../../src/eventstore/hashChain.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { context, match, nodeCallFailed, placeBuy, TAKER_B, takerLockFailed } from '../commands/commandFixtures.js';

const ORDER_ID = 'otc_00000000000000c1';

/** Five events over four appends, one of them a two-event append. */
async function recordHistory(store: SqliteEventStore): Promise<RecordedEvent[]> {
  const ctx = context();
  await handleOrderCommand(store, ORDER_ID, placeBuy(ORDER_ID), ctx);
  await handleOrderCommand(store, ORDER_ID, match(TAKER_B), ctx);
  await handleOrderCommand(store, ORDER_ID, takerLockFailed, context({ actor: 'reconciler' }));
  await handleOrderCommand(store, ORDER_ID, nodeCallFailed('k-1'), context({ actor: 'reconciler' }));
  return store.readStream(orderStream(ORDER_ID));
}

function withEvent(events: readonly RecordedEvent[], version: bigint, change: (e: RecordedEvent) => RecordedEvent): RecordedEvent[] {
  return events.map((e) => (e.version === version ? change(e) : e));
}

describe('canonicalJson', () => {
  it('sorts keys by code point at every depth and writes no whitespace', () => {
    const value = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x y' }, B: true, '': null };
    expect(canonicalJson(value)).toBe('{"":null,"B":true,"a":{"c":"x y","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('gives one string for equal values however their keys were ordered', () => {
    expect(canonicalJson({ amount: '5', pair: 'RTC/USDC', nested: { x: 1, w: [2, 1] } })).toBe(
      canonicalJson({ nested: { w: [2, 1], x: 1 }, pair: 'RTC/USDC', amount: '5' }),
    );
  });

  it('keeps array order, escapes strings as JSON does, and drops undefined members', () => {
    const value = JSON.parse('{"s":"quote\\" line\\n é 💸","arr":[3,1,2]}') as { s: string; arr: number[] };
    expect(canonicalJson({ ...value, gone: undefined } as never)).toBe('{"arr":[3,1,2],"s":"quote\\" line\\n é 💸"}');
    expect(canonicalJson(null)).toBe('null');
  });
});

describe('chain hash values', () => {
  // Computed by the object-building implementation these functions replaced (canonicalJson of the
  // whole covered object, then sha256 over two updates): the hashes of events already written must
  // not move when the code that computes them gets faster.
  const event = { stream: 'order-otc_00000000000000c1', version: 2n, type: 'Matched', data: { z: [1, { b: null, a: 'é💸"' }], a: '5', n: 3 } };
  const covered = { actor: 'RTC' + 'a'.repeat(40), correlation_id: 'req-1', causation_id: null, recorded_at: '2026-01-01T00:00:00.000Z' };
  const prev = 'ab'.repeat(32);

  it('are those of every chain version as first written', () => {
    expect(chainHash(prev, event)).toBe('113b5a50059989c7e34fe7c937775bd9c20875c269b7afdd98020d690dfecb0f');
    expect(chainHashV2(prev, event, covered)).toBe('15d1f3d7562345b78aae11d1cd840081ae2037145f9de6d126362f99eb2c1bae');
    expect(chainHashV3(prev, event, covered)).toBe('028566c13aaacbe707db2ea985a64981a9ebf4b4ff45cca091a560c655cbd511');
    const signed = { ...covered, signature_sha256: 'cd'.repeat(32), signature_action: 'match_order' };
    expect(chainHashV3(prev, event, signed)).toBe('859502d8fb48b8e9e2512c4507a83f2a4975972b3dc0264d821d6ef905ebe862');
  });

  it('drop a covered field that is missing, as the canonical JSON of the object would (an edited row)', () => {
    const partial = { recorded_at: covered.recorded_at, causation_id: 'c-1' } as unknown as typeof covered;
    expect(chainHashV3(prev, event, partial)).toBe('eba23e87c80007ef09a02e633bd39149b9c337ea5f184c6d67032d86441f8f32');
    const body = canonicalJson({
      causation_id: 'c-1', chain_version: CHAIN_V3, data: event.data, recorded_at: covered.recorded_at,
      signature_action: null, signature_sha256: null, stream: event.stream, type: event.type, version: '2',
    });
    expect(chainHashV3(prev, event, partial)).toBe(createHash('sha256').update(prev + body).digest('hex'));
  });
});

describe('chainHash', () => {
  it('is sha256 of the previous hash followed by the canonical JSON of data, stream, type and version', () => {
    const event = { stream: 'order-x', version: 3n, type: 'Matched', data: { b: '2', a: 1 } };
    const body = '{"data":{"a":1,"b":"2"},"stream":"order-x","type":"Matched","version":"3"}';
    const expected = createHash('sha256').update(GENESIS_HASH + body).digest('hex');
    expect(chainHash(GENESIS_HASH, event)).toBe(expected);
  });

  it('changes with every input it covers', () => {
    const base = { stream: 'order-x', version: 1n, type: 'OrderPlaced', data: { a: 1 } };
    const hash = chainHash(GENESIS_HASH, base);
    const variants = [
      chainHash('1'.repeat(64), base),
      chainHash(GENESIS_HASH, { ...base, stream: 'order-y' }),
      chainHash(GENESIS_HASH, { ...base, version: 2n }),
      chainHash(GENESIS_HASH, { ...base, type: 'OrderCancelled' }),
      chainHash(GENESIS_HASH, { ...base, data: { a: 2 } }),
    ];
    expect(new Set([hash, ...variants]).size).toBe(6);
  });
});

describe('verifyChain', () => {
  it('verifies the chain written by handleOrderCommand across appends, including a two-event append', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = await recordHistory(store);
    expect(events.map((e) => e.type)).toEqual(['OrderPlaced', 'Matched', 'EscrowLockFailed', 'MatchAborted', 'NodeCallFailed']);
    expect(events[0]?.metadata.prev_hash).toBe(GENESIS_HASH);
    events.slice(1).forEach((e, i) => expect(e.metadata.prev_hash).toBe(events[i]?.metadata.hash));
    expect(verifyChain(events)).toEqual({ ok: true });
    expect(verifyChain([])).toEqual({ ok: true });
    await store.close();
  });

  it('names the first event whose data was tampered with', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = await recordHistory(store);
    const tampered = withEvent(events, 3n, (e) => ({ ...e, data: { ...e.data, reason: 'all fine' } }));
    expect(verifyChain(tampered)).toMatchObject({ ok: false, version: 3n, eventId: events[2]?.eventId, problem: expect.stringMatching(/hash/) });
    await store.close();
  });

  it('names an event whose prev_hash does not link to the event before it', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = await recordHistory(store);
    const relinked = withEvent(events, 2n, (e) => ({ ...e, metadata: { ...e.metadata, prev_hash: 'e'.repeat(64) } }));
    expect(verifyChain(relinked)).toMatchObject({ ok: false, version: 2n, problem: expect.stringMatching(/prev_hash/) });
    const rehashed = withEvent(events, 4n, (e) => ({ ...e, metadata: { ...e.metadata, hash: 'e'.repeat(64) } }));
    expect(verifyChain(rehashed)).toMatchObject({ ok: false, version: 4n });
    await store.close();
  });

  it('names the event after a gap in versions', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = await recordHistory(store);
    const gap = events.filter((e) => e.version !== 3n);
    expect(verifyChain(gap)).toMatchObject({ ok: false, version: 4n, problem: expect.stringMatching(/version 4 where 3/) });
    expect(verifyChain(events.slice(1))).toMatchObject({ ok: false, version: 2n });
    await store.close();
  });

  it('reports an event edited in the database file behind the store’s back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otc-ledger-chain-'));
    const path = join(dir, 'events.db');
    try {
      const store = new SqliteEventStore({ path });
      await recordHistory(store);
      const raw = new Database(path);
      raw.prepare("UPDATE events SET data = json_set(data, '$.taker_wallet', ?) WHERE stream = ? AND version = 2")
        .run('RTC' + 'f'.repeat(40), orderStream(ORDER_ID));
      raw.close();
      expect(verifyChain(await store.readStream(orderStream(ORDER_ID)))).toMatchObject({ ok: false, version: 2n });
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('chain version 2: the metadata is covered', () => {
  it('writes new events under chain version 3 (version 2 plus the signature spent), and they verify', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = await recordHistory(store);
    expect(events.every((e) => e.metadata.chain_version === CHAIN_V3)).toBe(true);
    expect(events[0]?.metadata.hash).toBe(chainHashV3(GENESIS_HASH, events[0] as RecordedEvent, events[0]!.metadata));
    expect(verifyChain(events)).toEqual({ ok: true });
    await store.close();
  });

  it.each([
    ['actor', { actor: 'operator:mallory' }],
    ['correlation_id', { correlation_id: 'req-forged' }],
    ['causation_id', { causation_id: 'evt-forged' }],
    ['recorded_at', { recorded_at: '2020-01-01T00:00:00.000Z' }],
  ])('reports an edited %s', async (_field, edit) => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = await recordHistory(store);
    const edited = withEvent(events, 2n, (e) => ({ ...e, metadata: { ...e.metadata, ...edit } }));
    expect(verifyChain(edited)).toMatchObject({ ok: false, version: 2n, problem: 'hash does not match the event content' });
    await store.close();
  });

  it('keeps verifying events written under chain version 1, and a stream that goes on under version 2', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const v2 = await recordHistory(store);
    // The same stream as the first format wrote it for its first two events: no chain_version, v1 hashes.
    let prev = GENESIS_HASH;
    const legacy = v2.slice(0, 2).map((e) => {
      const { chain_version: _dropped, ...metadata } = e.metadata;
      const hash = chainHash(prev, e);
      const event = { ...e, metadata: { ...metadata, prev_hash: prev, hash } };
      prev = hash;
      return event;
    });
    expect(verifyChain(legacy)).toEqual({ ok: true });
    const goesOn = v2.slice(2).map((e) => {
      const hash = chainHashV2(prev, e, e.metadata);
      const event = { ...e, metadata: { ...e.metadata, chain_version: CHAIN_V2, prev_hash: prev, hash } };
      prev = hash;
      return event;
    });
    expect(verifyChain([...legacy, ...goesOn])).toEqual({ ok: true });
    // Under version 1 the actor was not covered: the known weakness version 2 removes.
    expect(verifyChain(withEvent(legacy, 2n, (e) => ({ ...e, metadata: { ...e.metadata, actor: 'someone' } })))).toEqual({ ok: true });
    await store.close();
  });

  it('covers the signature an event spends (version 3): struck, edited or added, the chain breaks; v2 then v3 verifies', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = await recordHistory(store);
    let prev = GENESIS_HASH;
    // The first event as a signed command writes it, the rest re-linked behind it.
    const linked = events.map((e, i) => {
      const metadata = i === 0 ? { ...e.metadata, signature_sha256: 'ab'.repeat(32), signature_action: 'create_order' } : e.metadata;
      const hash = chainHashV3(prev, e, metadata);
      const event = { ...e, metadata: { ...metadata, prev_hash: prev, hash } };
      prev = hash;
      return event;
    });
    expect(verifyChain(linked)).toEqual({ ok: true });
    const { signature_sha256: _struck, ...struck } = linked[0]!.metadata;
    expect(verifyChain([{ ...linked[0]!, metadata: struck }, ...linked.slice(1)])).toMatchObject({ ok: false, version: 1n, problem: 'hash does not match the event content' });
    expect(verifyChain(withEvent(linked, 1n, (e) => ({ ...e, metadata: { ...e.metadata, signature_action: 'cancel_order' } })))).toMatchObject({ ok: false, version: 1n });
    expect(verifyChain(withEvent(linked, 2n, (e) => ({ ...e, metadata: { ...e.metadata, signature_sha256: 'cd'.repeat(32) } })))).toMatchObject({ ok: false, version: 2n });
    // An order stream written before the upgrade (v2) goes on under v3.
    let p2 = GENESIS_HASH;
    const mixed = events.map((e, i) => {
      const metadata = i < 2 ? { ...e.metadata, chain_version: CHAIN_V2 } : e.metadata;
      const hash = i < 2 ? chainHashV2(p2, e, metadata) : chainHashV3(p2, e, metadata);
      const event = { ...e, metadata: { ...metadata, prev_hash: p2, hash } };
      p2 = hash;
      return event;
    });
    expect(verifyChain(mixed)).toEqual({ ok: true });
    await store.close();
  });

  it('reports a version 2 event relabelled as version 1, with or without its hash recomputed', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = await recordHistory(store);
    const relabel = (e: RecordedEvent, rehash: boolean): RecordedEvent => {
      const { chain_version: _dropped, ...metadata } = e.metadata;
      const edited = { ...metadata, actor: 'operator:mallory' };
      return { ...e, metadata: { ...edited, hash: rehash ? chainHash(e.metadata.prev_hash, e) : e.metadata.hash } };
    };
    expect(verifyChain(withEvent(events, 2n, (e) => relabel(e, false)))).toMatchObject({ ok: false, version: 2n });
    // The last event rewritten as version 1 with a fresh v1 hash: caught because versions only go up.
    expect(verifyChain(withEvent(events, 5n, (e) => relabel(e, true)))).toMatchObject({ ok: false, version: 5n, problem: expect.stringMatching(/chain_version 1 after/) });
    await store.close();
  });

  it('reports an unknown chain version', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = await recordHistory(store);
    const future = withEvent(events, 1n, (e) => ({ ...e, metadata: { ...e.metadata, chain_version: 9 } }));
    expect(verifyChain(future)).toMatchObject({ ok: false, version: 1n, problem: 'chain_version 9 is not known' });
    await store.close();
  });

  it('verify reports an actor edited in the database file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otc-ledger-chain-'));
    const path = join(dir, 'events.db');
    try {
      const store = new SqliteEventStore({ path });
      await recordHistory(store);
      expect((await verifyLedger({ store, readDb: null })).findings).toEqual([]);
      const raw = new Database(path);
      raw.prepare("UPDATE events SET metadata = json_set(metadata, '$.actor', 'operator:mallory') WHERE stream = ? AND version = 3").run(orderStream(ORDER_ID));
      raw.close();
      const { findings } = await verifyLedger({ store, readDb: null });
      expect(findings).toEqual([expect.objectContaining({ kind: 'hash_chain_broken', stream: orderStream(ORDER_ID), version: 3 })]);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
