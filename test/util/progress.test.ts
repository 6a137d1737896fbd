import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/util/log.js';
import { ProgressMeter, progressLine } from '../../src/util/progress.js';

describe('progress: done of total, a rate over the last seconds, an ETA', () => {
  it('the rate follows the last 10 seconds, not the average since the start, and the ETA uses it', () => {
    const m = new ProgressMeter(0);
    // 100 MB/s for 60 s, then 10 MB/s: after 20 more seconds the rate reads 10 MB/s.
    for (let t = 0; t <= 60; t++) m.read('read', { rows: t * 1000, done: t * 100e6, total: 8e9, unit: 'bytes' }, t * 1000);
    let r = m.read('read', { rows: 61_000, done: 6.1e9, total: 8e9, unit: 'bytes' }, 61_000);
    expect(r.rate).toBeCloseTo(100e6, -3);
    for (let t = 62; t <= 80; t++) r = m.read('read', { rows: 61_000 + (t - 61) * 100, done: 6.1e9 + (t - 61) * 10e6, total: 8e9, unit: 'bytes' }, t * 1000);
    expect(r.rate).toBeCloseTo(10e6, -3);
    expect(r.fraction).toBeCloseTo(6.29e9 / 8e9, 3);
    expect(r.etaSeconds).toBeCloseTo((8e9 - 6.29e9) / 10e6, 0);
    expect(progressLine('read', r)).toBe('read [################....] 78% 6.29 GB/8.00 GB, 62,900 rows, 100 rows/s, ETA 2m51s');
    // A new stage starts its own window.
    const e = m.read('embed', { rows: 10, done: 10, total: 40, unit: 'rows' }, 81_000);
    expect(e.rate).toBe(0);
    expect(progressLine('embed', e)).toBe('embed [#####...............] 25% 10/40 rows, 0 rows/s, ETA -');
  });

  it('JSON progress events carry done, total, fraction, rate and ETA; a terminal gets one redrawn bar', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    let now = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      const json = createLogger({ format: 'json', stream: sink as unknown as NodeJS.WriteStream });
      for (now = 0; now <= 20_000; now += 1000) json.progress('tokens', now / 10, { done: now / 10, total: 4000, unit: 'rows' });
      const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events.length).toBe(2);
      expect(events[1]).toMatchObject({ event: 'progress', stage: 'tokens', rows: 2000, done: 2000, total: 4000, unit: 'rows', fraction: 0.5, rows_per_second: 100, eta_seconds: 20 });

      lines.length = 0;
      const tty = Object.assign(sink, { isTTY: true }) as unknown as NodeJS.WriteStream;
      const text = createLogger({ format: 'text', stream: tty });
      for (now = 30_000; now <= 31_000; now += 500) text.progress('embed', (now - 30_000) / 10, { done: (now - 30_000) / 10, total: 200, unit: 'rows' });
      text.endProgress();
      expect(lines.every((l) => l.startsWith('\r\x1b[K'))).toBe(true);
      expect(lines.at(-2)).toBe('\r\x1b[Kembed [##########..........] 50% 100/200 rows, 100 rows/s, ETA 1s');
    } finally {
      clock.mockRestore();
    }
  });
});
