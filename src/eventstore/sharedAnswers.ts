import type { AppendOutcome } from './sqliteWritePath.js';

/** Outcomes one shared answer holds: the store's largest group (MAX_APPENDS_PER_COMMIT). */
export const SHARED_ANSWER_CAPACITY = 512;

const HEADER_BYTES = 8;

type WaitAsyncResult = { readonly async: false; readonly value: 'not-equal' | 'timed-out' } | { readonly async: true; readonly value: Promise<'ok' | 'timed-out'> };

/** Atomics.waitAsync (in Node since 16); the project's TypeScript lib (ES2022) does not declare it yet. */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync.bind(Atomics);
const NUMBERS_PER_OUTCOME = 3;

/**
 * The writer thread's answer to a group, through shared memory instead of a message (issue 14,
 * lever 3): a message costs a structured clone each way, a MessagePort drain and an event on the
 * event loop; this is a few stores, one Atomics.notify, and on the loop one Atomics.waitAsync
 * wake-up. One answer at a time (the store has one group in flight): the thread writes every
 * outcome, then the group's sequence number into the header, which is what the loop waits on.
 * Only groups whose appends all committed are answered here (a failure is a message, with its
 * error); positions and versions are integers below 2^53, exact as doubles.
 *
 * Layout: Int32 [0] = sequence number (as int32) of the last group answered here, Int32 [1] = its
 * outcome count, then per outcome three doubles: written (0/1), next version, position.
 */
export class SharedAnswers {
  private readonly header: Int32Array;
  private readonly numbers: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(HEADER_BYTES + SHARED_ANSWER_CAPACITY * NUMBERS_PER_OUTCOME * 8)) {
    this.header = new Int32Array(buffer, 0, 2);
    this.numbers = new Float64Array(buffer, HEADER_BYTES, SHARED_ANSWER_CAPACITY * NUMBERS_PER_OUTCOME);
  }

  /** The writer thread: publishes the outcomes of group `seq`, if they all committed and fit; else false. */
  write(seq: number, outcomes: readonly AppendOutcome[]): boolean {
    if (outcomes.length > SHARED_ANSWER_CAPACITY || !outcomes.every((o) => o.ok)) return false;
    outcomes.forEach((outcome, i) => {
      if (!outcome.ok) return;
      this.numbers[i * NUMBERS_PER_OUTCOME] = outcome.written ? 1 : 0;
      this.numbers[i * NUMBERS_PER_OUTCOME + 1] = Number(outcome.result.nextVersion);
      this.numbers[i * NUMBERS_PER_OUTCOME + 2] = Number(outcome.result.position);
    });
    Atomics.store(this.header, 1, outcomes.length);
    // Last: the loop reads the outcomes only once it sees this number (Atomics order the writes before).
    Atomics.store(this.header, 0, seq | 0);
    Atomics.notify(this.header, 0);
    return true;
  }

  /** The number the header holds now: what a wait for the next answer waits to change. */
  lastAnswered(): number {
    return Atomics.load(this.header, 0);
  }

  /**
   * The event loop: calls `answered` with group `seq`'s outcomes once the thread published them
   * here, never if it answers by message instead (a wait then lapses with the next answer).
   */
  whenAnswered(seq: number, lastAnswered: number, answered: (outcomes: AppendOutcome[]) => void): void {
    const take = () => {
      if (Atomics.load(this.header, 0) === (seq | 0)) answered(this.read());
    };
    const wait = waitAsync(this.header, 0, lastAnswered);
    if (wait.async) void wait.value.then(take);
    else take();
  }

  private read(): AppendOutcome[] {
    const count = Atomics.load(this.header, 1);
    const outcomes: AppendOutcome[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * NUMBERS_PER_OUTCOME;
      const result = { nextVersion: BigInt(this.numbers[at + 1] as number), position: BigInt(this.numbers[at + 2] as number) };
      outcomes.push({ ok: true, written: this.numbers[at] === 1, result });
    }
    return outcomes;
  }
}
