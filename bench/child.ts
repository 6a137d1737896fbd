import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

/** What run-child.ts prints: the default pipeline's figures from a process of its own. */
export interface ChildResult {
  rows: number;
  selected: number;
  seconds: number;
  stages: { stage: string; seconds: number }[];
  phases: Record<string, number>;
  /** RSS after each phase and the process's peak so far, MB. */
  phaseRss: Record<string, { rss_mb: number; peak_rss_mb: number }>;
  maxRssMB: number;
}

/**
 * Runs the default pipeline over `file` into a fresh `out` in a new process (so peak RSS is that
 * run's alone), with `overrides` merged into the config.
 */
export function runDefaultInChild(file: string, out: string, overrides: unknown): ChildResult {
  rmSync(out, { recursive: true, force: true });
  const script = fileURLToPath(new URL('./run-child.js', import.meta.url));
  return JSON.parse(execFileSync(process.execPath, [script, file, out, '', JSON.stringify(overrides)], { encoding: 'utf8', maxBuffer: 1 << 24 })) as ChildResult;
}
