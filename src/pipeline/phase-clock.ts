import type { Logger } from '../util/log.js';

/**
 * Wall seconds per phase of a run (plan, stream, each barrier stage, checkpoints, emit), kept in the
 * manifest, and a `phase_done` event after each with the memory in use then (peak: the whole process
 * so far, worker threads included), so a user sees which stage needs more.
 */
export class PhaseClock {
  readonly started = performance.now();
  private mark = performance.now();
  constructor(
    private readonly log: Logger,
    readonly phases: Record<string, number> = {},
  ) {}

  /** Adds the time since the last mark to `name` (a resumed run's earlier phases are passed in). */
  done(name: string): void {
    const now = performance.now();
    this.phases[name] = (this.phases[name] ?? 0) + (now - this.mark) / 1000;
    this.mark = now;
    const rss = { rss_mb: Math.round(process.memoryUsage.rss() / 1e6), peak_rss_mb: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6) };
    this.log.event('phase_done', { phase: name, seconds: Math.round(this.phases[name]! * 1000) / 1000, ...rss });
  }

  get seconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}
