/** How far a stage is: rows so far, and where known, work done of a total (bytes of input, rows to embed). */
export interface ProgressState {
  rows: number;
  done?: number;
  total?: number;
  unit?: 'bytes' | 'rows';
}

/** A progress reading: the rate over the last seconds (not since the start) and the time left. */
export interface ProgressReading extends ProgressState {
  /** Units (bytes or rows) per second over the window; rows per second when no total is known. */
  rate: number;
  rowsPerSecond: number;
  etaSeconds: number | null;
  fraction: number | null;
  seconds: number;
}

const WINDOW_MS = 10_000;

/**
 * Rate and ETA from a sliding window of samples: a stage that slows down (long documents at the end
 * of a lake, a busy machine) shows it within seconds instead of averaging it away since the start.
 */
export class ProgressMeter {
  private samples: { t: number; done: number; rows: number }[] = [];
  private label = '';
  constructor(private readonly started: number) {}

  read(label: string, s: ProgressState, now: number): ProgressReading {
    if (label !== this.label) {
      this.samples = [];
      this.label = label;
    }
    const done = s.done ?? s.rows;
    this.samples.push({ t: now, done, rows: s.rows });
    while (this.samples.length > 2 && now - this.samples[1]!.t >= WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (now - first.t) / 1000;
    const rate = dt > 0 ? (done - first.done) / dt : 0;
    const rowsPerSecond = dt > 0 ? (s.rows - first.rows) / dt : 0;
    const fraction = s.total && s.total > 0 ? Math.min(1, done / s.total) : null;
    const etaSeconds = fraction !== null && rate > 0 ? Math.max(0, (s.total! - done) / rate) : null;
    return { ...s, rate, rowsPerSecond, etaSeconds, fraction, seconds: (now - this.started) / 1000 };
  }
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

function amount(x: number, unit: ProgressState['unit']): string {
  if (unit !== 'bytes') return n(x);
  return x >= 1e9 ? `${(x / 1e9).toFixed(2)} GB` : `${(x / 1e6).toFixed(1)} MB`;
}

export function duration(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line: `read [#####.....] 45% 1.2 GB/2.7 GB, 52,000 rows, 38,000 rows/s, ETA 1m05s` (a bar only with a total). */
export function progressLine(label: string, r: ProgressReading, width = 20): string {
  const rate = `${n(r.rowsPerSecond)} rows/s`;
  if (r.fraction === null) return `${label}: ${n(r.rows)} rows, ${rate}, ${duration(r.seconds)}`;
  const full = Math.round(r.fraction * width);
  const bar = `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
  const of = r.unit === 'rows' ? `${n(r.done!)}/${n(r.total!)} rows` : `${amount(r.done!, r.unit)}/${amount(r.total!, r.unit)}, ${n(r.rows)} rows`;
  return `${label} ${bar} ${Math.floor(r.fraction * 100)}% ${of}, ${rate}, ${r.etaSeconds === null ? 'ETA -' : `ETA ${duration(r.etaSeconds)}`}`;
}
