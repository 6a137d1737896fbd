import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';

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
 * run's alone), with `overrides` merged into the config. The embedding cache is a fresh folder in
 * `out` unless the overrides name one: a run that found the previous run's vectors in the user cache
 * timed a cache read, not the encoder (the 1M-row scale figure once did: embed 54 s warm, ~200 s cold).
 */
export function runDefaultInChild(file: string, out: string, overrides: object): ChildResult {
  rmSync(out, { recursive: true, force: true });
  const o = overrides as { stages?: { embed?: object } };
  const cold = { ...o, stages: { ...o.stages, embed: { cache: path.join(out, 'embed-cache'), ...o.stages?.embed } } };
  const script = fileURLToPath(new URL('./run-child.js', import.meta.url));
  return JSON.parse(execFileSync(process.execPath, [script, file, out, '', JSON.stringify(cold)], { encoding: 'utf8', maxBuffer: 1 << 24 })) as ChildResult;
}
