import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { embeddingCacheDir } from '../../embed/cache-dir.js';
import { cacheEntries } from '../../embed/cache-prune.js';
import { formatSize } from '../../core/memory.js';

/** `winnow cache`: what the embedding cache holds, and `winnow cache clear` to empty it. */
export function registerCache(program: Command): void {
  const cache = program
    .command('cache')
    .description('show the embedding cache (files per encoder, size, last use); `winnow cache clear` empties it')
    .option('--dir <folder>', 'a cache folder other than the user cache (stages.embed.cache: <folder>)')
    .addHelpText('after', '\nThe cache is capped by stages.embed.cache_limit (default 2GB); least recently used files go first.\n')
    .action(async (flags: { dir?: string }) => {
      const dir = folder(flags.dir);
      const entries = await cacheEntries(dir);
      const total = entries.reduce((a, e) => a + e.bytes, 0);
      const lines = [
        `embedding cache ${dir}: ${entries.length} file(s), ${formatSize(total)}`,
        ...entries.map((e) => `  ${e.used.toISOString().slice(0, 16).replace('T', ' ')}  ${formatSize(e.bytes).padStart(7)}  ${e.file.split('/').pop()}`),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
  cache
    .command('clear')
    .description('remove every file of the embedding cache')
    .option('--dir <folder>', 'a cache folder other than the user cache')
    .action(async (flags: { dir?: string }, cmd: Command) => {
      const dir = folder(flags.dir ?? (cmd.parent?.opts() as { dir?: string }).dir);
      const entries = await cacheEntries(dir);
      for (const e of entries) await Promise.all([rm(e.file, { force: true }), rm(`${e.file}.wal`, { force: true })]);
      process.stdout.write(`removed ${entries.length} file(s), ${formatSize(entries.reduce((a, e) => a + e.bytes, 0))}, from ${dir}\n`);
    });
}

function folder(dir: string | undefined): string {
  return embeddingCacheDir(dir ?? true, process.cwd())!;
}
