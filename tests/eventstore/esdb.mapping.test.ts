import { ANY, NO_STREAM, STREAM_EXISTS, WrongExpectedVersionError } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { toExpectedRevision, toVersion, toVersionConflict } from '../../src/eventstore/esdbMapping.js';
import { VersionConflict } from '../../src/eventstore/types.js';

describe('esdb numbering: our version = ESDB revision + 1', () => {
  it('maps every expected version to the server’s expected revision', () => {
    expect(toExpectedRevision('no_stream')).toBe(NO_STREAM);
    expect(toExpectedRevision('stream_exists')).toBe(STREAM_EXISTS);
    expect(toExpectedRevision('any')).toBe(ANY);
    expect(toExpectedRevision(0n)).toBe(NO_STREAM);
    expect(toExpectedRevision(1n)).toBe(0n);
    expect(toExpectedRevision(42n)).toBe(41n);
    expect(() => toExpectedRevision(-1n)).toThrow(RangeError);
  });

  it('maps a current revision, or no stream, to our version', () => {
    expect(toVersion('no_stream')).toBe(0n);
    expect(toVersion(0n)).toBe(1n);
    expect(toVersion(9n)).toBe(10n);
  });

  it('turns WrongExpectedVersionError into a VersionConflict with our expected value and actual version', () => {
    const existing = new WrongExpectedVersionError(undefined, { streamName: 'order-1', expected: 1n, current: 4n });
    const conflict = toVersionConflict('order-1', 2n, existing);
    expect(conflict).toBeInstanceOf(VersionConflict);
    expect([conflict?.stream, conflict?.expected, conflict?.actual]).toEqual(['order-1', 2n, 5n]);
    const missing = new WrongExpectedVersionError(undefined, { streamName: 'order-2', expected: STREAM_EXISTS, current: 'no_stream' });
    expect(toVersionConflict('order-2', 'stream_exists', missing)?.actual).toBe(0n);
    expect(toVersionConflict('order-3', 'any', new Error('other'))).toBeNull();
  });
});
