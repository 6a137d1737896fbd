import { ALIVE } from '../core/reasons.js';
import { InputError } from '../core/errors.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';

/**
 * Rows that share an id, with `limits.duplicate_ids` other than `warn`: `keep_first` rejects every
 * row after the first (in input order) of an id among the rows still selected, naming the first in
 * reason_detail; `error` stops the run before any barrier work, with examples.
 */
export const duplicateIdStage: BarrierStage = {
  name: 'duplicate_ids',
  enabled: (p) => p.limits.duplicate_ids !== 'warn',
  writes: [],
  run: resolveDuplicateIds,
};

async function resolveDuplicateIds(ctx: BarrierContext): Promise<BarrierResult> {
  const t0 = performance.now();
  const conn = ctx.store.conn;
  const alive = `FROM samples WHERE ${ALIVE}`;
  const before = Number((await conn.runAndReadAll(`SELECT count(*) ${alive}`)).getRows()[0]![0]);
  if (ctx.config.limits.duplicate_ids === 'error') {
    const dups = (await conn.runAndReadAll(`SELECT id, count(*)::INT FROM samples GROUP BY id HAVING count(*) > 1 ORDER BY min(uid) LIMIT 6`)).getRows();
    if (dups.length > 0) {
      const list = dups
        .slice(0, 5)
        .map(([id, n]) => `"${String(id)}" (${Number(n)} rows)`)
        .join(', ');
      throw new InputError(
        `ids occur on more than one row: ${list}${dups.length > 5 ? ', ...' : ''}; limits.duplicate_ids is error. Give each row its own id, or set limits.duplicate_ids to keep_first or warn`,
      );
    }
    return { counters: { stage: 'duplicate_ids', in: before, out: before, rejected: {}, seconds: (performance.now() - t0) / 1000 } };
  }
  const res = await conn.run(`
    UPDATE samples SET status = 'rejected', reason = 'duplicate_id', reason_detail = 'id also on the earlier row ' || d.first
    FROM (SELECT uid, row_number() OVER w AS rn, first_value(file::VARCHAR || ':' || "row") OVER w AS first ${alive} WINDOW w AS (PARTITION BY id ORDER BY uid)) d
    WHERE samples.uid = d.uid AND d.rn > 1`);
  const n = Number(res.rowsChanged);
  if (n > 0) ctx.log.warn(`${n} row(s) rejected as duplicate_id: an earlier row of the run has the same id (limits.duplicate_ids: keep_first)`);
  return { counters: { stage: 'duplicate_ids', in: before, out: before - n, rejected: n > 0 ? { duplicate_id: n } : {}, seconds: (performance.now() - t0) / 1000 } };
}
