import { ALIVE } from '../core/reasons.js';
import { evidenceNeeded, fitTargetPrior, logit, PRIOR_FLOOR } from '../langid/target-prior.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';
import { PENDING, priorFitted } from './langid.js';

export interface LangIdPriorManifest {
  /** The prior the pending rows were decided at. */
  prior: number;
  /** The EM estimate before the floor (0.5) and cap (0.99). */
  estimate: number;
  iterations: number;
  /** Rows whose evidence the fit saw (every row langid scored against the targets). */
  rows: number;
  /** Alive rows whose evidence was weak at either end of the prior's range. */
  pending: number;
  rejected: number;
}

/**
 * `langid.target_prior: auto`: the share of the corpus in the target languages is fitted from every
 * scored row's evidence (samples.lang_target_llr, see langid/target-prior.ts), then the rows the
 * streaming stage left pending are decided at that prior. Not per shard: the merge fits the prior
 * over the whole job, as one process would.
 */
export const langIdPriorStage: BarrierStage<LangIdPriorManifest> = {
  name: 'langid_prior',
  enabled: (p) => p.stages.langid.enabled && priorFitted(p.stages.langid),
  writes: [],
  run: runPrior,
};

async function runPrior(ctx: BarrierContext): Promise<BarrierResult<LangIdPriorManifest>> {
  const t0 = performance.now();
  const c = ctx.store.conn;
  const cfg = ctx.config.stages.langid;
  const scored = 'FROM samples WHERE lang_target_llr IS NOT NULL';
  const rows = Number((await c.runAndReadAll(`SELECT count(*) ${scored}`)).getRows()[0]![0]);
  // One scan of one column per EM step: the evidence never leaves the store.
  const mean = async (a: number) => Number((await c.runAndReadAll(`SELECT fsum(1 / (1 + exp(-(lang_target_llr + ${a})))) / count(*) ${scored}`)).getRows()[0]![0]);
  const fit = await fitTargetPrior(rows, mean);
  // Alive rows below the line at the floor are the pending ones (the streaming stage kept the rest for good).
  const pendingSql = `${ALIVE} AND lang_target_llr < ${evidenceNeeded(PRIOR_FLOOR, cfg.min_confidence)}`;
  const line = evidenceNeeded(fit.prior, cfg.min_confidence);
  const [[pending, rejected, alive]] = (
    await c.runAndReadAll(
      `SELECT count(*) FILTER (WHERE ${pendingSql})::INT, count(*) FILTER (WHERE ${pendingSql} AND lang_target_llr < ${line})::INT, count(*) FILTER (WHERE ${ALIVE})::INT FROM samples`,
    )
  ).getRows() as [[number, number, number]];
  const out = `lang_target_llr < ${line}`;
  await c.run(
    `UPDATE samples SET
       lang_detail = replace(lang_detail, '${PENDING}', CASE WHEN ${out} THEN 'rejected at the corpus prior ${fit.prior}: ' ELSE 'kept at the corpus prior ${fit.prior}: ' END),
       status = CASE WHEN ${out} THEN 'rejected' ELSE status END,
       reason = CASE WHEN ${out} THEN 'lang_mismatch' ELSE reason END,
       reason_detail = CASE WHEN ${out}
         THEN format('lang_pred={} (conf {}), P(target or confusable) {} at the corpus prior {} (fitted over {} rows); target {}',
           lang_pred, lang_conf, printf('%.1e', 1 / (1 + exp(-(lang_target_llr + ${logit(fit.prior)})))), ${fit.prior}, ${rows}, '${cfg.target.join(',')}')
         ELSE reason_detail END
     WHERE ${pendingSql}`,
  );
  const counters = {
    stage: 'langid_prior',
    in: alive,
    out: alive - rejected,
    rejected: (rejected > 0 ? { lang_mismatch: rejected } : {}) as Record<string, number>,
    seconds: (performance.now() - t0) / 1000,
  };
  ctx.log.info(`langid: by its evidence the corpus is ${(100 * fit.estimate).toFixed(1)}% target; ${pending} rows of weak evidence decided at a prior of ${fit.prior}: ${rejected} rejected`);
  return { counters, manifest: { prior: fit.prior, estimate: fit.estimate, iterations: fit.iterations, rows, pending, rejected } };
}
