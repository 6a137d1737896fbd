/**
 * Human-facing messages go to stderr so stdout stays clean for `--json` and `winnow query`.
 * On a terminal progress redraws one line; otherwise it prints a plain line every few seconds.
 */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  progress(label: string, rows: number): void;
  endProgress(): void;
}

export function createLogger(opts: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Logger {
  const out = opts.stream ?? process.stderr;
  const tty = out.isTTY === true;
  const started = performance.now();
  let lastDraw = 0;
  let drawn = false;
  const seen = new Set<string>();
  const clear = (): void => {
    if (drawn) {
      out.write('\r\x1b[K');
      drawn = false;
    }
  };
  return {
    info(msg) {
      if (opts.quiet) return;
      clear();
      out.write(`${msg}\n`);
    },
    warn(msg) {
      // The same warning for every file of a source would bury the useful ones.
      if (seen.has(msg)) return;
      seen.add(msg);
      clear();
      out.write(`warning: ${msg}\n`);
    },
    progress(label, rows) {
      if (opts.quiet) return;
      const now = performance.now();
      if (now - lastDraw < (tty ? 250 : 10_000)) return;
      lastDraw = now;
      const secs = (now - started) / 1000;
      const line = `${label}: ${rows.toLocaleString('en-US')} rows, ${Math.round(rows / Math.max(secs, 1e-3)).toLocaleString('en-US')} rows/s, ${secs.toFixed(0)} s`;
      if (tty) {
        out.write(`\r\x1b[K${line}`);
        drawn = true;
      } else out.write(`${line}\n`);
    },
    endProgress() {
      clear();
    },
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, progress() {}, endProgress() {} };
