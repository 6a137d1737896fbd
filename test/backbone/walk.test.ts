import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { discoverSource } from '../../src/sources/discover.js';
import { walkFiles } from '../../src/sources/glob.js';
import { tempDir } from '../helpers.js';

describe('folder walks and symbolic links', () => {
  it('a link cycle is walked once and a file reached through two names is listed once', async () => {
    const dir = tempDir('winnow-walk-');
    mkdirSync(path.join(dir, 'lake', 'day1'), { recursive: true });
    writeFileSync(path.join(dir, 'lake', 'day1', 'a.jsonl'), '{"text":"a"}\n');
    writeFileSync(path.join(dir, 'lake', 'b.jsonl'), '{"text":"b"}\n');
    // day1/back -> .. makes a cycle; c.jsonl is a second name for b.jsonl; a folder outside is linked in.
    symlinkSync('..', path.join(dir, 'lake', 'day1', 'back'));
    symlinkSync('b.jsonl', path.join(dir, 'lake', 'c.jsonl'));
    mkdirSync(path.join(dir, 'other'));
    writeFileSync(path.join(dir, 'other', 'd.jsonl'), '{"text":"d"}\n');
    symlinkSync(path.join(dir, 'other'), path.join(dir, 'lake', 'linked'));
    expect(await walkFiles(path.join(dir, 'lake'))).toEqual(['b.jsonl', 'day1/a.jsonl', 'linked/d.jsonl']);
  });

  it('a named pipe given as an input is an input error, not a read that blocks forever', async () => {
    const dir = tempDir('winnow-walk-');
    const fifo = path.join(dir, 'feed.jsonl');
    execFileSync('mkfifo', [fifo]);
    const src = { name: 'feed', path: fifo, format: 'auto' } as Parameters<typeof discoverSource>[0];
    await expect(discoverSource(src, dir)).rejects.toThrow(InputError);
    await expect(discoverSource(src, dir)).rejects.toThrow(/feed\.jsonl is not a regular file \(a named pipe\)/);
  });
});
