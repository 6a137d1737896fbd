import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Pipeline } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { hasGlob, splitGlob } from '../sources/glob.js';
import { readRunManifest } from '../pipeline/manifest.js';

/** What marks a folder as winnow's: a run in progress, its lock, or a completed run's manifest. */
const MARKERS = ['.winnow-work', '.winnow.lock'];

function hasWinnowManifest(dir: string): boolean {
  try {
    return readRunManifest(dir) !== null;
  } catch {
    // A manifest.json of another tool (or unreadable): not a winnow run.
    return false;
  }
}

/** The folders a source reads below: a folder source itself, or a glob's fixed part. */
function sourceRoots(config: Pipeline, baseDir: string): string[] {
  return config.sources
    .flatMap((s) => (Array.isArray(s.path) ? s.path : [s.path]))
    .flatMap((p) => {
      const abs = path.resolve(baseDir, hasGlob(p) ? splitGlob(p).base : p);
      return existsSync(abs) && statSync(abs).isDirectory() ? [abs] : [];
    });
}

const inside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/**
 * An output folder winnow may write into: a new or empty folder, or one a winnow run made. A
 * folder holding anything else is refused (winnow replaces its outputs there and would overwrite
 * or remove the user's files), and so is an input folder or one inside it (the next run would
 * read its own outputs as input).
 */
export function checkOutDir(outDir: string, config: Pipeline, baseDir: string): void {
  const root = sourceRoots(config, baseDir).find((r) => inside(outDir, r));
  if (root) throw new ConfigError(`--out ${outDir} is inside the input folder ${root}: the next run would read this run's outputs as input; choose an output folder outside the sources`);
  if (!existsSync(outDir)) return;
  if (!statSync(outDir).isDirectory()) throw new ConfigError(`--out ${outDir} is a file, not a folder`);
  const entries = readdirSync(outDir);
  if (entries.length === 0 || MARKERS.some((m) => entries.includes(m)) || hasWinnowManifest(outDir)) return;
  throw new ConfigError(
    `--out ${outDir} is a folder that winnow did not create and it is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}); winnow would overwrite files there. Give a new or empty folder`,
  );
}
