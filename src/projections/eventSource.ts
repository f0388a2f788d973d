import type { RawEventRow } from '../eventstore/sqlite.js';
import type { EventMetadata, EventStore, JsonObject, RecordedEvent } from '../eventstore/types.js';

/** A store that can hand out rows with their JSON unparsed (the SQLite store). */
interface RawReader {
  readAllRawSync(afterPosition: bigint, maxCount: number): RawEventRow[];
  readAllSync(afterPosition: bigint, maxCount: number): RecordedEvent[];
}

function hasRawRead(store: EventStore): store is EventStore & RawReader {
  return typeof (store as Partial<RawReader>).readAllRawSync === 'function';
}

/**
 * A recorded event whose data is parsed on first use and whose metadata is read on first use.
 * Projections look at the stream and type of every event but at the data of only some of them,
 * and at no metadata beyond `recorded_at`; parsing both JSON documents of every event was most of
 * a rebuild's read cost, and holding the metadata text most of its garbage.
 */
export class LazyEvent implements RecordedEvent {
  readonly eventId: string;
  readonly stream: string;
  readonly type: string;
  readonly version: bigint;
  readonly position: bigint;
  /** metadata.recorded_at, extracted by the store without parsing the metadata. */
  readonly recordedAt: string | null;
  private readonly dataText: string;
  private readonly source: RawReader;
  private parsedData: JsonObject | null = null;
  private parsedMetadata: EventMetadata | null = null;

  constructor(row: RawEventRow, source: RawReader) {
    this.eventId = row.event_id;
    this.stream = row.stream;
    this.type = row.type;
    this.version = BigInt(row.version);
    this.position = BigInt(row.position);
    this.recordedAt = row.recorded_at;
    this.dataText = row.data;
    this.source = source;
  }

  get data(): JsonObject {
    this.parsedData ??= JSON.parse(this.dataText) as JsonObject;
    return this.parsedData;
  }

  get metadata(): EventMetadata {
    this.parsedMetadata ??= this.readMetadata();
    return this.parsedMetadata;
  }

  /** Events never change once stored, so reading this one again later gives the same metadata. */
  private readMetadata(): EventMetadata {
    const [event] = this.source.readAllSync(this.position - 1n, 1);
    if (event === undefined || event.position !== this.position) throw new Error(`event at position ${this.position} is gone`);
    return event.metadata;
  }
}

/** The event's recorded_at, without parsing its metadata when the store already extracted it. */
export function recordedAtOf(event: RecordedEvent): string {
  if (event instanceof LazyEvent && event.recordedAt !== null) return event.recordedAt;
  return event.metadata.recorded_at;
}

/** Up to maxCount events after `afterPosition`: raw rows made lazy when the store offers them. */
export async function readEvents(store: EventStore, afterPosition: bigint, maxCount: number): Promise<RecordedEvent[]> {
  if (!hasRawRead(store)) return store.readAll(afterPosition, maxCount);
  return store.readAllRawSync(afterPosition, maxCount).map((row) => new LazyEvent(row, store));
}
