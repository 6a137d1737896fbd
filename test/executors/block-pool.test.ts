import { describe, expect, it } from 'vitest';
import { rankBlocks } from '../../src/executors/block-pool.js';
import type { BlockRanking } from '../../src/select/blocks.js';
import type { BlockInput, Signal } from '../../src/select/rank-block.js';

/** A stand-in block: its uids name it, so a ranking can be traced back to the block it came from. */
const input = (b: number): BlockInput => ({ pool: { x: new Float32Array(0), n: 0, d: 0 }, uids: BigInt64Array.of(BigInt(b)), tasks: [], select: {} as BlockInput['select'], seed: 0 });
const ranking = (i: BlockInput): BlockRanking<Signal> => ({
  uids: i.uids,
  rank: new Int32Array(1),
  by: [null],
  gain: new Float32Array(1),
  signals: {} as BlockRanking<Signal>['signals'],
  first: 0,
  tasks: [],
  exact: true,
});

describe("rankBlocks (the select stage's block executor)", () => {
  it('keeps at most `concurrency` blocks read and unranked, and puts each ranking at its block whatever order they finish in', async () => {
    let held = 0;
    let most = 0;
    const delays = [30, 5, 20, 1, 10, 2, 15];
    const parts = await rankBlocks(
      delays.length,
      3,
      async (b) => {
        held++;
        most = Math.max(most, held);
        return input(b);
      },
      async (i) => {
        await new Promise((r) => setTimeout(r, delays[Number(i.uids[0])]));
        held--;
        return ranking(i);
      },
    );
    expect(parts.map((p) => Number(p.uids[0]))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
  });

  it('fails with the first block that fails, without reading the blocks after it', async () => {
    const read: number[] = [];
    const run = rankBlocks(
      6,
      2,
      async (b) => (read.push(b), input(b)),
      async (i) => {
        if (Number(i.uids[0]) === 1) throw new Error('block 1 ran out of memory');
        await new Promise((r) => setTimeout(r, 50));
        return ranking(i);
      },
    );
    await expect(run).rejects.toThrow('block 1 ran out of memory');
    expect(read).toEqual([0, 1]);
  });
});
