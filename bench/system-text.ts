import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Text in languages, scripts and a register (software messages) outside ../shared/datasets: the
 * translations of the programs installed on this machine (gettext .mo catalogues under
 * /usr/share/locale). Only prose is kept: messages of 4+ words ending in sentence punctuation,
 * with printf placeholders removed. Nothing of it is shipped; benchmarks read it where it is.
 */
export function systemMessages(locale: string, max = 400): string[] {
  const dir = path.join('/usr/share/locale', locale, 'LC_MESSAGES');
  if (!existsSync(dir)) return [];
  const out = new Set<string>();
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.mo'))
    .sort()) {
    for (const m of readMo(path.join(dir, f))) {
      const t = m
        .replace(/%(\d+\$)?[-+ #0']*\d*(\.\d+)?[hlLqjzt]*[a-zA-Z]/g, '')
        .replace(/\s+/g, ' ')
        .trim();
      if (t.split(' ').length >= 4 && /[.!?。।።။។]$/u.test(t) && !/[<>{}\\`$=_]/.test(t)) out.add(t);
      if (out.size >= max) return [...out];
    }
  }
  return [...out];
}

/** The translated strings of a GNU .mo file (magic, count, then tables of length/offset pairs). */
function readMo(file: string): string[] {
  const b = readFileSync(file);
  if (b.length < 28) return [];
  const le = b.readUInt32LE(0) === 0x950412de;
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (!le && b.readUInt32BE(0) !== 0x950412de) return [];
  const n = u32(8);
  const table = u32(16);
  const entry = (i: number): Buffer => b.subarray(u32(table + i * 8 + 4), u32(table + i * 8 + 4) + u32(table + i * 8));
  // Entry 0 is the header; older catalogues are in legacy charsets (EUC-JP, ISO-8859-7), not text to judge.
  if (n === 0 || !/charset=utf-8/i.test(entry(0).toString('latin1'))) return [];
  const out: string[] = [];
  for (let i = 1; i < n; i++) {
    // Plural forms are NUL-separated; the first is a sentence like the others.
    out.push(entry(i).toString('utf8').split('\0')[0]!);
  }
  return out;
}
