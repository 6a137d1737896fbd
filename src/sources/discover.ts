import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceConfig } from '../config/schema.js';
import { ConfigError, InputError } from '../core/errors.js';
import { globToRegExp, hasGlob, splitGlob, walkFiles } from './glob.js';

export type FileFormat = 'jsonl' | 'csv' | 'tsv' | 'parquet' | 'text';

export interface InputFile {
  source: string;
  /** Absolute path on this machine. */
  abs: string;
  /** Path relative to the folder the pattern was anchored at: stable across machines, part of derived ids. */
  rel: string;
  format: FileFormat;
  gzip: boolean;
}

const EXTENSIONS: [RegExp, FileFormat][] = [
  [/\.(jsonl|ndjson|json)(\.gz)?$/i, 'jsonl'],
  [/\.csv(\.gz)?$/i, 'csv'],
  [/\.tsv(\.gz)?$/i, 'tsv'],
  [/\.parquet$/i, 'parquet'],
  [/\.txt(\.gz)?$/i, 'text'],
];

export function formatOf(file: string): FileFormat | null {
  for (const [re, f] of EXTENSIONS) if (re.test(file)) return f;
  return null;
}

const HOW_TO_FETCH: Record<string, string> = {
  s3: 'aws s3 sync s3://BUCKET/PREFIX ./lake',
  gs: 'gcloud storage rsync -r gs://BUCKET/PREFIX ./lake',
  hf: 'huggingface-cli download --repo-type dataset OWNER/NAME --local-dir ./lake',
  http: 'curl -O URL (or wget)',
  https: 'curl -O URL (or wget)',
};

/**
 * winnow reads local files only: fingerprints, resumable reads and the incremental state need a
 * file it can stat, hash and re-read. A URL is refused up front with the command that copies it.
 */
function remoteUnsupported(source: string, raw: string): void {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw);
  if (!m || m[1]!.toLowerCase() === 'file') return;
  const scheme = m[1]!.toLowerCase();
  const how = HOW_TO_FETCH[scheme];
  throw new ConfigError(
    `source "${source}": ${raw} is a ${scheme}:// URL; winnow reads local files, folders and globs only (it fingerprints and re-reads every input). Copy or mount the data first${how ? `, e.g. ${how}` : ''}, and give the local path.`,
  );
}

/**
 * Expands a source's paths (files, folders, globs) into files, in sorted order so every run reads
 * the same rows in the same order. A missing path or a glob that matches nothing is an error
 * before any work is done.
 */
export async function discoverSource(src: SourceConfig, baseDir: string): Promise<InputFile[]> {
  const patterns = Array.isArray(src.path) ? src.path : [src.path];
  const files = new Map<string, InputFile>();
  const byRel = new Map<string, string>();
  for (const raw of patterns) {
    remoteUnsupported(src.name, raw);
    const pattern = path
      .resolve(baseDir, raw.startsWith('file://') ? fileURLToPath(raw) : raw)
      .split(path.sep)
      .join('/');
    let matched: { abs: string; rel: string }[] = [];
    if (hasGlob(pattern)) {
      const { base, rest } = splitGlob(pattern);
      const re = globToRegExp(rest);
      const st = await stat(base).catch(() => null);
      if (st?.isDirectory()) {
        matched = (await walkFiles(base)).filter((r) => re.test(r)).map((r) => ({ abs: path.join(base, r), rel: r }));
      }
      if (matched.length === 0) {
        throw new InputError(`source "${src.name}": the glob ${raw} matched no files (searched under ${base}). Check the pattern and that the data is mounted.`);
      }
    } else {
      const st = await stat(pattern).catch((e: NodeJS.ErrnoException) => e);
      if (st instanceof Error) {
        throw new InputError(`source "${src.name}": ${raw} does not exist or cannot be accessed (${st.code ?? st.message}).`);
      }
      if (st.isDirectory()) {
        const all = await walkFiles(pattern);
        const rels = src.format === 'auto' ? all.filter((r) => formatOf(r) !== null) : all;
        matched = rels.map((r) => ({ abs: path.join(pattern, r), rel: r }));
        if (matched.length === 0) {
          throw new InputError(`source "${src.name}": the folder ${raw} holds no readable data files (.jsonl, .json, .ndjson, .csv, .tsv, .parquet, .txt, optionally .gz).`);
        }
      } else if (!st.isFile()) {
        // A FIFO or a device would block the read forever (or never end): only regular files are data.
        throw new InputError(`source "${src.name}": ${raw} is not a regular file (a ${st.isFIFO() ? 'named pipe' : st.isSocket() ? 'socket' : 'device'}); give a file or a folder of files`);
      } else {
        matched = [{ abs: pattern, rel: path.basename(pattern) }];
      }
    }
    for (const m of matched) {
      if (files.has(m.abs)) continue;
      const clash = byRel.get(m.rel);
      if (clash !== undefined) {
        throw new ConfigError(`source "${src.name}": ${clash} and ${m.abs} would both be named "${m.rel}" in derived ids; split them into two sources.`);
      }
      const format = src.format === 'auto' ? formatOf(m.abs) : src.format;
      if (format === null) {
        throw new ConfigError(`source "${src.name}": cannot tell the format of ${m.abs} from its extension; set sources[].format (jsonl, csv, tsv, parquet or text).`);
      }
      files.set(m.abs, { source: src.name, abs: m.abs, rel: m.rel, format, gzip: /\.gz$/i.test(m.abs) });
      byRel.set(m.rel, m.abs);
    }
  }
  return [...files.values()];
}

/**
 * Opens every file and checks its first bytes, so an unreadable, empty-but-compressed or mislabelled
 * file stops the run before anything is written rather than halfway through.
 */
export async function checkReadable(files: readonly InputFile[]): Promise<void> {
  const problems: string[] = [];
  for (const f of files) {
    try {
      const fh = await open(f.abs, 'r');
      try {
        const head = Buffer.alloc(4);
        const { bytesRead } = await fh.read(head, 0, 4, 0);
        // A 0-byte .gz holds no rows: it reads as an empty file, not as a broken one.
        if (f.gzip && bytesRead > 0 && (bytesRead < 2 || head[0] !== 0x1f || head[1] !== 0x8b)) {
          problems.push(`${f.abs}: named .gz but is not gzip data`);
        } else if (f.format === 'parquet' && (bytesRead < 4 || head.toString('latin1') !== 'PAR1')) {
          problems.push(`${f.abs}: not a Parquet file (missing PAR1 magic bytes)`);
        }
      } finally {
        await fh.close();
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      problems.push(`${f.abs}: cannot be read (${e.code ?? e.message})`);
    }
  }
  if (problems.length > 0) {
    throw new InputError(`${problems.length} input file(s) cannot be read; nothing was processed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
