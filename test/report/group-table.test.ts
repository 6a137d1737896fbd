import { describe, expect, it } from 'vitest';
import { groupTable } from '../../src/report/render.js';
import { fixture } from '../helpers.js';

describe('report group tables', () => {
  it('show the largest groups and one "other" row, with the full table folded', () => {
    // 40 groups, as a mixed corpus gives: sizes from the Tatoeba fixture files' row counts.
    const files = ['amh', 'ast', 'bre', 'ceb', 'cor', 'cym', 'dsb', 'fao', 'fry', 'gla', 'gle', 'hsb', 'jav', 'kab', 'kaz', 'khm', 'kur', 'mhr', 'mon', 'oci'];
    const rows = files.flatMap((f, i) => {
      const size = fixture(`tatoeba-laser/${f}-eng`).length;
      return [f, `${f}_x`].map((key, k) => ({
        key,
        rows: size - i - k,
        kept: size - i - k - 1,
        selected: 10,
        tokens: 1000,
        selectedTokens: 100,
        keptChars: 50,
        selectedChars: 40,
        keptMeanTokens: 12,
        selectedMeanTokens: i % 2 ? null : 10,
      }));
    });
    rows.sort((a, b) => b.rows - a.rows);
    const html = groupTable('Per language', 'language', rows);
    const [visible, folded] = html.split('<details>');
    expect(visible!.match(/<tr><td>/g)).toHaveLength(16);
    expect(visible).toContain('other (25 more)');
    const rest = rows.slice(15);
    expect(visible).toContain(`<td>${rest.reduce((a, r) => a + r.rows, 0).toLocaleString('en-US')}</td>`);
    expect(folded!.match(/<tr><td>/g)).toHaveLength(40);
    expect(folded).toContain('All 40 languages');
    // Few groups: no "other" row, nothing folded.
    const small = groupTable('Per source', 'source', rows.slice(0, 3));
    expect(small).not.toContain('other (');
    expect(small).not.toContain('<details>');
  });
});
