import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

const GLOB_CHARS = /[*?[{]/;

export function hasGlob(p: string): boolean {
  return GLOB_CHARS.test(p);
}

/** Splits "/data/lake/**\/*.jsonl" into the folder to walk and the pattern below it. */
export function splitGlob(pattern: string): { base: string; rest: string } {
  const parts = pattern.split('/');
  const idx = parts.findIndex((s) => hasGlob(s));
  if (idx < 0) return { base: pattern, rest: '' };
  const base = parts.slice(0, idx).join('/') || (pattern.startsWith('/') ? '/' : '.');
  return { base, rest: parts.slice(idx).join('/') };
}

/** Glob (relative, "/"-separated) to an anchored RegExp: `**` spans folders, `*` and `?` do not. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        re += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        const alts = glob
          .slice(i + 1, end)
          .split(',')
          .map((a) => globToRegExp(a).source.slice(1, -1));
        re += `(?:${alts.join('|')})`;
        i = end;
      }
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * All regular files under `dir`, relative paths with "/" separators, sorted; hidden entries skipped.
 * Symbolic links are followed, but each real folder and file only once (in name order, so which
 * alias stands for it does not depend on the file system): a link cycle is not walked ~40 times.
 */
export async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const root = await realpath(dir);
  const seen = new Set<string>([root]);
  // An entry's real path is its folder's real path plus its name unless it is a link: only links
  // cost a realpath call, not every file of a large lake.
  async function visit(rel: string, real: string): Promise<void> {
    const entries = (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      const abs = path.join(dir, child);
      const link = e.isSymbolicLink();
      const s = link ? await stat(abs).catch(() => null) : e;
      if (!s?.isDirectory() && !s?.isFile()) continue;
      const target = link ? await realpath(abs).catch(() => null) : path.join(real, e.name);
      if (target === null || seen.has(target)) continue;
      seen.add(target);
      if (s.isDirectory()) await visit(child, target);
      else out.push(child);
    }
  }
  await visit('', root);
  return out.sort();
}
