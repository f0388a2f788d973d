import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/eventstore/types.js';
import type { ContractContext } from './contract.js';
import { expectStrictlyIncreasing, metadataFor, newEvent, newEvents, readAllWithPrefix, uniquePrefix } from './contractSupport.js';

const awkwardData: JsonObject = {
  plain: 'settled',
  unicode: 'RTC→USDC 💸 结算 שלום e\u0301 \u00e9',
  control: 'tab\tnewline\nquote" backslash\\ nul\u0000 end',
  'ключ 🔑': { nested: { deeper: [1, 'two', { three: [true, false, null] }] } },
  empty: { object: {}, array: [], string: '' },
  numbers: { zero: 0, negative: -17, maxSafe: Number.MAX_SAFE_INTEGER, fraction: 1.5 },
  amount_micro_rtc: '123456789012345678901234567890',
};

export function registerReadCases({ store, startsEmpty }: ContractContext): void {
  describe('readStream', () => {
    it('reads from a version to the end, and [] past the end or for no stream', async () => {
      const stream = `${uniquePrefix('read')}1`;
      await store().append(stream, newEvents(5), 'no_stream');
      const versions = async (from?: bigint) => (await store().readStream(stream, from)).map((e) => e.version);
      expect(await versions()).toEqual([1n, 2n, 3n, 4n, 5n]);
      expect(await versions(3n)).toEqual([3n, 4n, 5n]);
      expect(await versions(5n)).toEqual([5n]);
      expect(await versions(6n)).toEqual([]);
      expect(await store().readStream(`${uniquePrefix('read')}absent`)).toEqual([]);
    });

    it('round-trips JSON data and metadata exactly: unicode, control characters, nesting, big decimal strings', async () => {
      const stream = `${uniquePrefix('json')}1`;
      const first = newEvent(awkwardData, 'AwkwardThingHappened');
      const secondId = first.eventId.replace(/^.{8}/, 'aaaaaaaa');
      const metadata = metadataFor(secondId, { causation_id: first.eventId, actor: 'RTC' + 'ä'.repeat(3), correlation_id: 'req-✓' });
      const second = { eventId: secondId, type: 'Ünïcode', data: { list: [awkwardData] }, metadata };
      await store().append(stream, [first, second], 'no_stream');
      const [a, b] = await store().readStream(stream);
      expect(a).toMatchObject({ eventId: first.eventId, stream, type: first.type, version: 1n });
      expect(a?.data).toEqual(awkwardData);
      expect(a?.metadata).toEqual(first.metadata);
      expect(b).toMatchObject({ eventId: secondId, type: 'Ünïcode', version: 2n });
      expect(b?.data).toEqual({ list: [awkwardData] });
      expect(b?.metadata).toEqual(metadata);
      expect(typeof a?.position).toBe('bigint');
    });

    it('reads back a 5,000-event stream intact', async () => {
      const stream = `${uniquePrefix('large')}1`;
      const events = newEvents(5_000, 'large');
      for (let start = 0; start < events.length; start += 500) {
        const expected = start === 0 ? 'no_stream' : BigInt(start);
        await store().append(stream, events.slice(start, start + 500), expected);
      }
      const stored = await store().readStream(stream);
      expect(stored).toHaveLength(5_000);
      stored.forEach((e, i) => {
        if (e.version !== BigInt(i + 1) || e.eventId !== events[i]?.eventId || e.data['i'] !== i) {
          expect.fail(`event ${i + 1} came back as version ${e.version}, id ${e.eventId}`);
        }
      });
      expectStrictlyIncreasing(stored.map((e) => e.position));
      expect((await store().readStream(stream, 4_999n)).map((e) => e.version)).toEqual([4_999n, 5_000n]);
    });
  });

  describe('readAll and headPosition', () => {
    if (startsEmpty) {
      it('a fresh store has head 0 and an empty log', async () => {
        expect(await store().headPosition()).toBe(0n);
        expect(await store().readAll(0n, 10)).toEqual([]);
      });
    }

    it('reads the global log across streams in append order, in pages of at most maxCount', async () => {
      const prefix = uniquePrefix('all');
      const start = await store().headPosition();
      const plan: [string, number][] = [['a', 1], ['b', 2], ['a', 1], ['c', 3], ['b', 1], ['a', 2]];
      const appended: string[] = [];
      const lastPositions: bigint[] = [];
      for (const [name, count] of plan) {
        const batch = newEvents(count, name);
        lastPositions.push((await store().append(`${prefix}${name}`, batch, 'any')).position);
        appended.push(...batch.map((e) => e.eventId));
      }
      const log = await readAllWithPrefix(store(), start, prefix, 2);
      expect(log.map((e) => e.eventId)).toEqual(appended);
      expectStrictlyIncreasing(log.map((e) => e.position));
      expectStrictlyIncreasing(lastPositions);
      expect(log[log.length - 1]?.position).toBe(lastPositions[lastPositions.length - 1]);
      expect(await store().readAll(start, 3)).toHaveLength(3);
    });

    it('headPosition moves past every append and nothing of ours lies beyond it', async () => {
      const prefix = uniquePrefix('head');
      const before = await store().headPosition();
      const result = await store().append(`${prefix}1`, newEvents(3), 'no_stream');
      const head = await store().headPosition();
      expect(typeof head).toBe('bigint');
      expect(result.position > before).toBe(true);
      expect(head >= result.position).toBe(true);
      expect(await readAllWithPrefix(store(), head, prefix)).toEqual([]);
      if (startsEmpty) expect(head).toBe(result.position);
    });
  });

  registerListStreamCases(store);
}

function registerListStreamCases(store: ContractContext['store']): void {
  describe('listStreams', () => {
    it('lists streams with a prefix in order of creation, once each, paged by position', async () => {
      const prefix = uniquePrefix('list');
      const other = uniquePrefix('other');
      const firsts = new Map<string, bigint>();
      for (const name of [`${prefix}a`, `${prefix}b`, `${other}x`, `${prefix}d`, `${prefix}a`, `${prefix}e`]) {
        const result = await store().append(name, newEvents(2), 'any');
        if (!firsts.has(name)) firsts.set(name, (await store().readStream(name))[0]?.position ?? -1n);
        expect(result.nextVersion > 0n).toBe(true);
      }
      const listed = await store().listStreams(prefix);
      const names = [`${prefix}a`, `${prefix}b`, `${prefix}d`, `${prefix}e`];
      expect(listed).toEqual(names.map((stream) => ({ stream, position: firsts.get(stream) })));
      const page1 = await store().listStreams(prefix, 0n, 2);
      expect(page1.map((s) => s.stream)).toEqual(names.slice(0, 2));
      const page2 = await store().listStreams(prefix, page1[1]?.position, 2);
      expect(page2.map((s) => s.stream)).toEqual(names.slice(2, 4));
      expect(await store().listStreams(prefix, page2[1]?.position, 2)).toEqual([]);
    });

    it('matches the prefix literally and case-sensitively', async () => {
      const prefix = uniquePrefix('literal');
      for (const name of ['order_1', 'orderX1', 'Order-1', 'order%1', 'order-1']) {
        await store().append(`${prefix}${name}`, [newEvent()], 'no_stream');
      }
      const names = async (p: string) => (await store().listStreams(`${prefix}${p}`)).map((s) => s.stream.slice(prefix.length));
      expect(await names('order_')).toEqual(['order_1']);
      expect(await names('order%')).toEqual(['order%1']);
      expect(await names('order-')).toEqual(['order-1']);
      expect(await names('Order')).toEqual(['Order-1']);
      expect(await names('')).toEqual(['order_1', 'orderX1', 'Order-1', 'order%1', 'order-1']);
    });
  });
}
