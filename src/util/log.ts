import { ProgressMeter, progressLine } from './progress.js';

/**
 * Human-facing messages go to stderr so stdout stays clean for `--json` and `winnow query`.
 * Text format: on a terminal progress redraws one line, otherwise a plain line every few seconds.
 * JSON format (the default when stdout is not a terminal, i.e. under cron, Kubernetes, Slurm or
 * Airflow): one object per line with a timestamp, a level and an event name, for log collectors.
 */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  /** Rows so far, and with `of` the work done of a known total (a bar and an ETA). */
  progress(label: string, rows: number, of?: { done: number; total: number; unit: 'bytes' | 'rows' }): void;
  endProgress(): void;
  /** A structured event (phase start/end, checkpoint, summary); only the JSON format prints it. */
  event(name: string, fields: Record<string, unknown>): void;
}

export type LogFormat = 'text' | 'json';

/** `--log-format`, else WINNOW_LOG_FORMAT, else JSON when stdout is not a terminal. */
export function resolveLogFormat(flag?: string): LogFormat {
  const v = flag ?? process.env.WINNOW_LOG_FORMAT ?? 'auto';
  if (v === 'text' || v === 'json') return v;
  if (v !== 'auto') throw new Error(`log format must be text, json or auto (got "${v}")`);
  return process.stdout.isTTY ? 'text' : 'json';
}

export function createLogger(opts: { quiet?: boolean; stream?: NodeJS.WriteStream; format?: LogFormat } = {}): Logger {
  const out = opts.stream ?? process.stderr;
  return opts.format === 'json' ? jsonLogger(out, opts.quiet === true) : textLogger(out, opts.quiet === true);
}

function jsonLogger(out: NodeJS.WritableStream, quiet: boolean): Logger {
  const started = performance.now();
  const meter = new ProgressMeter(started);
  let lastProgress = 0;
  const seen = new Set<string>();
  const line = (level: string, event: string, fields: Record<string, unknown>): void => {
    out.write(JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields }) + '\n');
  };
  return {
    info(msg) {
      if (!quiet) line('info', 'message', { msg });
    },
    warn(msg) {
      if (seen.has(msg)) return;
      seen.add(msg);
      line('warn', 'warning', { msg });
    },
    progress(label, rows, of) {
      const now = performance.now();
      if (quiet) return;
      const r = meter.read(label, { rows, ...of }, now);
      if (now - lastProgress < 10_000) return;
      lastProgress = now;
      const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10);
      line('info', 'progress', {
        stage: label,
        rows,
        ...(of ? { done: of.done, total: of.total, unit: of.unit, fraction: round(r.fraction), eta_seconds: round(r.etaSeconds) } : {}),
        rows_per_second: Math.round(r.rowsPerSecond),
        seconds: round(r.seconds),
      });
    },
    endProgress() {},
    event(name, fields) {
      if (!quiet) line('info', name, fields);
    },
  };
}

function textLogger(out: NodeJS.WriteStream | NodeJS.WritableStream, quiet: boolean): Logger {
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  const meter = new ProgressMeter(performance.now());
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
      if (quiet) return;
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
    progress(label, rows, of) {
      if (quiet) return;
      const now = performance.now();
      const r = meter.read(label, { rows, ...of }, now);
      if (now - lastDraw < (tty ? 250 : 10_000)) return;
      lastDraw = now;
      const line = progressLine(label, r);
      if (tty) {
        out.write(`\r\x1b[K${line}`);
        drawn = true;
      } else out.write(`${line}\n`);
    },
    endProgress() {
      clear();
    },
    event() {},
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, progress() {}, endProgress() {}, event() {} };
