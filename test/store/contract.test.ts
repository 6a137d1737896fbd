import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { REASONS } from '../../src/core/reasons.js';
import { AUGMENT_REASONS } from '../../src/stages/augment.js';
import { ROOT } from '../helpers.js';
import { describe, expect, it } from 'vitest';
import { checkWrites } from '../../src/pipeline/barriers.js';
import { BARRIER_STAGES } from '../../src/stages/registry.js';
import { storeObjects } from '../../src/store/catalog.js';
import { STORE_TABLES } from '../../src/store/tables.js';
import { silentLogger } from '../../src/util/log.js';

describe('the run store contract', () => {
  it('every rejection reason a stage may write is documented in docs/outputs.md', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'outputs.md'), 'utf8');
    for (const r of [...Object.keys(REASONS), ...Object.keys(AUGMENT_REASONS)]) expect(doc, r).toContain(`\`${r}\``);
  });

  it('every table and view a barrier stage declares is in the store registry that winnow query --help lists', () => {
    for (const stage of BARRIER_STAGES) {
      for (const w of stage.writes.filter((x) => !x.startsWith('samples.'))) expect(STORE_TABLES[w], `${stage.name} writes ${w}`).toBeDefined();
    }
  });

  it('a stage that adds an undeclared table or samples column is refused; temporary tables and declared writes pass', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      await c.run('CREATE TABLE samples (uid BIGINT, text VARCHAR)');
      const before = await storeObjects(c);
      expect([...before].sort()).toEqual(['samples', 'samples.text', 'samples.uid']);
      await c.run('CREATE TEMP TABLE scratch (x INT); CREATE TABLE budget (x INT); ALTER TABLE samples ADD COLUMN tokens INTEGER');
      const after = await storeObjects(c);
      const stage = BARRIER_STAGES.find((s) => s.name === 'budget')!;
      expect(() => checkWrites(stage, before, after, silentLogger)).not.toThrow();
      await c.run('CREATE TABLE stray (x INT); ALTER TABLE samples ADD COLUMN mystery DOUBLE');
      const worse = await storeObjects(c);
      const prev = process.env.WINNOW_STRICT_STORE;
      process.env.WINNOW_STRICT_STORE = '1';
      try {
        expect(() => checkWrites(stage, before, worse, silentLogger)).toThrow(/budget added stray, samples.mystery .*without declaring/);
      } finally {
        if (prev === undefined) delete process.env.WINNOW_STRICT_STORE;
        else process.env.WINNOW_STRICT_STORE = prev;
      }
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});
