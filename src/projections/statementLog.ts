import type { Database as Db, Statement } from 'better-sqlite3';

/**
 * The rows a read model's writer would write, recorded instead of run, so one thread can fold the
 * log and another write the copies (rebuildPipeline.ts). The writers reach the read DB only through
 * `cachedStatement(db, sql).run(...values)` (registry.ts), so a stand-in whose `prepare` hands out
 * recording statements captures exactly the statements and values they would run, in order; the
 * writing thread runs them again on the real connection, which makes its rows those of the
 * single-thread rebuild by construction (tests/projections/rebuildPipeline.test.ts).
 *
 * A batch crosses threads as a few typed arrays and one string, not as many small objects:
 * structured clone of an array of values pays per value, a typed array's buffer is transferred
 * and one flat string is one copy.
 */

/** What one recorded value is, in `RecordedStatements.tags`. */
const NULL = 0;
const NUMBER = 1;
const BIGINT = 2;
const TEXT = 3;
/** A bigint outside int64 (none of the writers' values today), carried as its decimal text. */
const BIGINT_TEXT = 4;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** One batch of recorded statement runs, in the order they ran. */
export interface RecordedStatements {
  /** SQL of statements first used in this batch; their ids follow those of earlier batches. */
  readonly newSql: readonly string[];
  /** Per run: the statement's id and its number of values, interleaved. */
  readonly runs: Uint32Array;
  /** Per value: its kind (NULL, NUMBER, BIGINT, TEXT, BIGINT_TEXT). */
  readonly tags: Uint8Array;
  readonly numbers: Float64Array;
  readonly bigints: BigInt64Array;
  /** Every text value, one after the other; `textLengths` cuts it (UTF-16 units). */
  readonly text: string;
  readonly textLengths: Uint32Array;
}

/** The buffers a postMessage of the batch can transfer instead of copying. */
export function transferablesOf(batch: RecordedStatements): ArrayBuffer[] {
  return [batch.runs.buffer, batch.tags.buffer, batch.numbers.buffer, batch.bigints.buffer, batch.textLengths.buffer] as ArrayBuffer[];
}

/** How many statement runs the batch holds. */
export const runCount = (batch: RecordedStatements): number => batch.runs.length / 2;

/** A typed array that grows by doubling: values off the JS heap's object graph, so a window's worth costs the GC nothing. */
class Growing<T extends Uint8Array | Uint32Array | Float64Array | BigInt64Array> {
  private array: T;
  length = 0;
  constructor(private readonly make: (size: number) => T) {
    this.array = make(1024);
  }

  push(value: T[number]): void {
    if (this.length === this.array.length) {
      const bigger = this.make(this.array.length * 2);
      bigger.set(this.array as never);
      this.array = bigger;
    }
    this.array[this.length++] = value;
  }

  /** The values so far, in an array of their own (its buffer can be transferred); this one starts again. */
  take(): T {
    const taken = this.array.slice(0, this.length) as T;
    this.length = 0;
    return taken;
  }
}

/** Texts joined into one string every this many, so a window's many small strings die young instead of piling up in the old generation. */
const TEXTS_PER_PIECE = 4096;

/**
 * A stand-in for the read DB connection that records what the writers run. Only `prepare(sql).run`
 * exists: a writer that read the read DB (get, all) would need the real rows, and fails here loudly.
 */
export class StatementRecorder {
  private readonly ids = new Map<string, number>();
  private newSql: string[] = [];
  private readonly runs = new Growing((n) => new Uint32Array(n));
  private readonly tags = new Growing((n) => new Uint8Array(n));
  private readonly numbers = new Growing((n) => new Float64Array(n));
  private readonly bigints = new Growing((n) => new BigInt64Array(n));
  private readonly textLengths = new Growing((n) => new Uint32Array(n));
  private texts: string[] = [];
  private pieces: string[] = [];

  /** The recorder typed as the connection the writers take. */
  asDb(): Db {
    return this as unknown as Db;
  }

  prepare(sql: string): Pick<Statement, 'run'> {
    let id = this.ids.get(sql);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(sql, id);
      this.newSql.push(sql);
    }
    const statementId = id;
    return {
      run: (...values: unknown[]) => {
        this.record(statementId, values);
        return { changes: 0, lastInsertRowid: 0 };
      },
    };
  }

  /** Runs recorded so far (not yet taken). */
  get pending(): number {
    return this.runs.length / 2;
  }

  /** The batch recorded since the last take, in transferable form; the recorder starts a new one. */
  take(): RecordedStatements {
    this.pieces.push(this.texts.join(''));
    const batch: RecordedStatements = {
      newSql: this.newSql,
      runs: this.runs.take(),
      tags: this.tags.take(),
      numbers: this.numbers.take(),
      bigints: this.bigints.take(),
      text: this.pieces.join(''),
      textLengths: this.textLengths.take(),
    };
    this.newSql = [];
    this.texts = [];
    this.pieces = [];
    return batch;
  }

  private record(statementId: number, values: readonly unknown[]): void {
    this.runs.push(statementId);
    this.runs.push(values.length);
    for (const value of values) this.recordValue(value);
  }

  private recordText(text: string): void {
    this.texts.push(text);
    this.textLengths.push(text.length);
    if (this.texts.length === TEXTS_PER_PIECE) {
      this.pieces.push(this.texts.join(''));
      this.texts = [];
    }
  }

  private recordValue(value: unknown): void {
    if (value === null) this.tags.push(NULL);
    else if (typeof value === 'number') {
      this.tags.push(NUMBER);
      this.numbers.push(value);
    } else if (typeof value === 'string') {
      this.tags.push(TEXT);
      this.recordText(value);
    } else if (typeof value === 'bigint') {
      const fits = value >= INT64_MIN && value <= INT64_MAX;
      this.tags.push(fits ? BIGINT : BIGINT_TEXT);
      if (fits) this.bigints.push(value);
      else this.recordText(value.toString());
    } else throw new TypeError(`a read model bound a ${typeof value} value; the rebuild's threads carry null, number, bigint and text only`);
  }
}

/** The writing side's statements by recorded id, prepared on its connection as their SQL arrives. */
export class StatementTable {
  private readonly statements: Statement[] = [];
  constructor(private readonly prepare: (sql: string) => Statement) {}

  learn(newSql: readonly string[]): void {
    for (const sql of newSql) this.statements.push(this.prepare(sql));
  }

  get(id: number): Statement {
    const statement = this.statements[id];
    if (statement === undefined) throw new Error(`recorded statement ${id} was never prepared`);
    return statement;
  }
}

/** Runs a recorded batch on the real connection, in the order it was recorded (inside the caller's transaction). */
export function replayStatements(table: StatementTable, batch: RecordedStatements): void {
  table.learn(batch.newSql);
  const { runs, tags, numbers, bigints, text, textLengths } = batch;
  let tag = 0;
  let number = 0;
  let big = 0;
  let textAt = 0;
  let textIndex = 0;
  for (let r = 0; r < runs.length; r += 2) {
    const statement = table.get(runs[r] as number);
    const count = runs[r + 1] as number;
    const values: unknown[] = new Array(count);
    for (let v = 0; v < count; v++) {
      const kind = tags[tag++];
      if (kind === NULL) values[v] = null;
      else if (kind === NUMBER) values[v] = numbers[number++];
      else if (kind === BIGINT) values[v] = bigints[big++];
      else {
        const length = textLengths[textIndex++] as number;
        const piece = text.slice(textAt, textAt + length);
        textAt += length;
        values[v] = kind === TEXT ? piece : BigInt(piece);
      }
    }
    statement.run(...values);
  }
}
