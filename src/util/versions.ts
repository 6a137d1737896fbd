import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root: the nearest folder above this file with a package.json. This file runs from
 * src/ (tests), dist/ (the CLI, the package) and .bench/build/src/ (benchmarks), at other depths.
 */
export const PROJECT_ROOT = ((): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(here, '..', '..');
  }
})();

function versionOf(pkgJson: string): string | null {
  try {
    return (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

export const WINNOW_VERSION = versionOf(path.join(PROJECT_ROOT, 'package.json')) ?? '0.0.0';

/** Versions of the packages whose behaviour shapes the outputs, for the manifest. */
export function packageVersions(): Record<string, string | null> {
  const deps = ['@duckdb/node-api', 'apache-arrow', 'zod', 'p-queue', 'yaml', 'commander'];
  const out: Record<string, string | null> = { winnow: WINNOW_VERSION, node: process.versions.node };
  for (const d of deps) out[d] = versionOf(path.join(PROJECT_ROOT, 'node_modules', d, 'package.json'));
  return out;
}
