import { describe, expect, it } from 'vitest';
import { exactPrefixes, mergeBlocks, type BlockRanking } from '../../src/select/blocks.js';
import { shuffled } from '../../src/math/random.js';

/** A block of every `count`-th uid from `offset`, ranked in a seeded random order; `first` rows labelled first. */
function block(offset: number, count: number, size: number, seed: number, first = 0): BlockRanking<'typicality'> {
  const uids = BigInt64Array.from({ length: size }, (_, i) => BigInt(offset + i * count));
  const rank = new Int32Array(size);
  shuffled(size, seed).forEach((row, r) => (rank[row] = r));
  const typicality = Float32Array.from({ length: size }, (_, i) => offset + i * count);
  return {
    uids,
    rank,
    by: Array.from({ length: size }, (_, i) => (rank[i]! < first ? 'labelled' : `block${offset}`)),
    gain: new Float32Array(size).fill(1),
    signals: { typicality },
    first,
    tasks: [],
    exact: true,
  };
}

describe('ranking a pool in blocks', () => {
  it('interleaves the blocks in proportion to their rankings, each block keeping its own order', () => {
    const parts = [block(0, 3, 40, 1), block(1, 3, 40, 2), block(2, 3, 39, 3)];
    const m = mergeBlocks(parts, 0);
    const n = 119;
    expect([...m.rank].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    // Every prefix of the merged order holds each block in proportion (within one row).
    const byRank = new Int32Array(n);
    m.rank.forEach((r, i) => (byRank[r] = i));
    const seen = [0, 0, 0];
    byRank.forEach((i, r) => {
      seen[Number(m.uids[i]! % 3n)]!++;
      parts.forEach((p, b) => expect(Math.abs(seen[b]! - ((r + 1) * p.uids.length) / n)).toBeLessThanOrEqual(1));
    });
    // Within a block, the merged ranks follow the block's ranks; signals travel with their rows.
    parts.forEach((p, b) => {
      const at = parts.slice(0, b).reduce((a, q) => a + q.uids.length, 0);
      const rows = [...p.rank.keys()].sort((x, y) => p.rank[x]! - p.rank[y]!);
      for (let k = 1; k < rows.length; k++) expect(m.rank[at + rows[k]!]!).toBeGreaterThan(m.rank[at + rows[k - 1]!]!);
    });
    m.uids.forEach((u, i) => expect(m.signals.typicality![i]).toBe(Number(u)));
  });

  it('keeps a signal some blocks lack (uncertainty in a block without labels) for the others, NaN where it is missing', () => {
    const parts = [block(0, 3, 20, 1), block(1, 3, 20, 2), block(2, 3, 20, 3)];
    parts[1]!.signals.typicality = null;
    const m = mergeBlocks(parts, 0);
    m.uids.forEach((u, i) => expect(m.signals.typicality![i]).toBe(u % 3n === 1n ? NaN : Number(u)));
    for (const p of parts) p.signals.typicality = null;
    expect(mergeBlocks(parts, 0).signals.typicality).toBeNull();
  });

  it('puts labelled-first rows ahead in uid order and keeps only max_picks ranks', () => {
    const parts = [block(0, 2, 30, 4, 3), block(1, 2, 30, 5, 2)];
    const m = mergeBlocks(parts, 20);
    const labelled = [...m.rank.keys()].filter((i) => m.by[i] === 'labelled');
    expect(labelled.map((i) => m.rank[i]!).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    const inUid = [...labelled].sort((a, b) => m.rank[a]! - m.rank[b]!).map((i) => m.uids[i]!);
    expect(inUid).toEqual([...inUid].sort((a, b) => (a < b ? -1 : 1)));
    expect(m.rank.filter((r) => r >= 0).length).toBe(20);
    m.rank.forEach((r, i) => {
      if (r < 0) expect([m.by[i], m.gain[i]]).toEqual([null, NaN]);
    });
    // The exact prefixes: each block's first picks past its labelled ones.
    expect(exactPrefixes(parts, 1000).reduce((a, h) => a + h, 0)).toBe(30 - 3 + 30 - 2);
    const head = exactPrefixes(parts, 4);
    expect(head.reduce((a, h) => a + h, 0)).toBe(8);
    parts.forEach((p, b) => p.rank.forEach((r, i) => expect(head[b * 30 + i]).toBe(r >= p.first && r < p.first + 4 ? 1 : 0)));
  });

  it('gives a single block back as it is', () => {
    const one = block(0, 1, 10, 6);
    expect(mergeBlocks([one], 0)).toBe(one);
  });
});
