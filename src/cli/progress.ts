import cliProgress from 'cli-progress';

/** Where CLI pieces print: process.stdout, or a collecting stub in tests. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressReporter {
  update(done: number, total: number): void;
  stop(): void;
}

/**
 * A bar on a terminal; on anything else (pipes, CI logs) a plain line at most every 10% so logs
 * stay readable.
 */
export function progressReporter(out: Output, label: string): ProgressReporter {
  if (out.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total}`, stream: out as NodeJS.WriteStream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, done);
          started = true;
        }
        bar.setTotal(total);
        bar.update(done);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastDecile = -1;
  return {
    update(done, total) {
      const decile = total === 0 ? 10 : Math.floor((done * 10) / total);
      if (decile === lastDecile) return;
      lastDecile = decile;
      out.write(`${label}: ${done}/${total}\n`);
    },
    stop() {},
  };
}
