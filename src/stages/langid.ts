import type { LangIdConfig } from '../config/schema.js';
import { reject, type Batch } from '../core/batch.js';
import { confusable, confusableGroup, languagePart, sameLanguage } from '../langid/codes.js';
import { focused, identify, loadCld3, type LangGuess } from '../langid/ensemble.js';
import { BUNDLED_LID176, fastTextPath, loadFastText, type FastTextIdentifier } from '../langid/fasttext.js';
import { scriptCounts } from '../langid/script.js';
import { evidenceNeeded, logit, PRIOR_CAP, PRIOR_FLOOR, sigmoid } from '../langid/target-prior.js';
import type { Stage, StageEnv } from './stage.js';

/** Whether a predicted tag matches one of the target tags (a target without script matches any script). */
export function matchesTarget(tag: string, targets: readonly string[]): boolean {
  const [lang, script] = tag.split('_');
  return targets.some((t) => {
    const [tl, ts] = t.split('_');
    return sameLanguage(lang!, languagePart(tl!)) && (ts === undefined || ts === script);
  });
}

export interface TargetVerdict {
  keep: boolean;
  /** Why, for lang_detail: which rule kept the row, or the evidence that rejected it. */
  why: string;
  /**
   * The row's evidence: the log likelihood ratio of "a target or a language confusable with one"
   * against the rest (+-LLR_BOUND when a rule decided: a target tag, a target share; 0: no
   * language evidence). null in strict mode. Stored as samples.lang_target_llr.
   */
  llr: number | null;
  /** `target_prior: auto` and the evidence is neither plain at the largest prior nor at the smallest: the corpus prior decides (langid_prior). */
  pending: boolean;
}

/** How lang_detail opens the reason of a pending row; langid_prior replaces it with what it decided. */
export const PENDING = 'pending: ';

/** Beyond this the evidence is certain either way (and exp() stays finite). */
export const LLR_BOUND = 500;

const pct = (p: number): string => p.toFixed(3);

/** The languages a target decision needs the probability of: the targets and their confusable relatives. */
export function focusLanguages(targets: readonly string[]): string[] {
  return [...new Set(targets.flatMap((t) => confusableGroup(languagePart(t))))];
}

/**
 * With targets, a row is rejected only when the evidence says it is another language. The
 * identifier's posterior assumes every language it knows is equally likely; a user who names
 * targets expects them, so the probability of "a target or a language confusable with one
 * (kin/run, amh/tir, ...)" is recomputed with the targets taking a prior share of the corpus
 * (Bayes' rule on the odds). The row is rejected when that probability is below
 * 1 - min_confidence: text of another language has a likelihood ratio that no such prior rescues,
 * while a noisy tweet in the target language, which the profiles call something obscure, is kept.
 * The prior is `target_prior`, or with `auto` fitted from the corpus (langid/target-prior.ts): a
 * row plain at either end of its range is decided here, the rest wait for the fit (`pending`). A
 * target share of a mixed document keeps the row too. `strict` keeps only target predictions of
 * `min_confidence` (the old rule).
 */
export function targetVerdict(g: LangGuess, cfg: LangIdConfig): TargetVerdict {
  const targets = cfg.target;
  const ruled = (keep: boolean, why: string, llr: number | null): TargetVerdict => ({ keep, why, llr, pending: false });
  if (matchesTarget(g.tag, targets)) return ruled(g.confidence >= (cfg.strict ? cfg.min_confidence : 0), `target (conf ${pct(g.confidence)})`, cfg.strict ? null : LLR_BOUND);
  if (cfg.strict) return ruled(false, `not a target (strict)`, null);
  if (g.lang === 'und') return ruled(true, 'kept: no language evidence', 0);
  const share = Object.entries(g.shares ?? {}).find(([tag]) => matchesTarget(tag, targets));
  if (share) return ruled(true, `kept: mixed document, target ${share[0]} share ${share[1]}`, LLR_BOUND);
  const llr = targetLogLikelihoodRatio(g, targets);
  const fitted = priorFitted(cfg);
  const low = cfg.target_prior === 'auto' ? PRIOR_FLOOR : cfg.target_prior;
  const high = fitted ? PRIOR_CAP : low;
  const p = sigmoid(llr + logit(low));
  if (llr >= evidenceNeeded(low, cfg.min_confidence)) return ruled(true, `kept: P(target or confusable) ${pct(p)} >= ${pct(1 - cfg.min_confidence)} with the target prior ${low}`, llr);
  const against = `${g.tag} (conf ${pct(g.confidence)}), P(target or confusable) ${p.toExponential(1)} with the target prior ${low}`;
  if (llr < evidenceNeeded(high, cfg.min_confidence)) return ruled(false, fitted ? `${against} (${sigmoid(llr + logit(high)).toExponential(1)} at ${high})` : against, llr);
  return { keep: true, why: `${PENDING}${against}; the corpus prior decides (langid_prior)`, llr, pending: true };
}

/**
 * Whether the langid_prior stage fits the targets' prior and decides the rows left pending: with
 * `auto`, when rows are rejected by this evidence (not tagged only, not by a reference model, not
 * strict). Otherwise `auto` means the floor, 0.5.
 */
export function priorFitted(cfg: LangIdConfig): boolean {
  return cfg.target.length > 0 && cfg.target_prior === 'auto' && cfg.action === 'reject' && !cfg.strict && cfg.reference === undefined;
}

/** log [P(target or confusable) / P(the rest)] under a uniform prior over the identifier's languages, corrected to even prior odds. */
function targetLogLikelihoodRatio(g: LangGuess, targets: readonly string[]): number {
  const scripts = new Set(targets.map((t) => t.split('_')[1] ?? g.script));
  const near = scripts.has(g.script) ? g.focus.filter((c) => targets.some((t) => confusable(c.lang, languagePart(t)))) : [];
  const mass = Math.min(
    1,
    near.reduce((a, c) => a + c.p, 0),
  );
  const k = Math.max(1, near.length);
  const uniform = g.languages > 0 ? Math.max(g.languages - k, 1) / k : 1;
  const llr = Math.log(mass) - Math.log(Math.max(1e-300, 1 - mass)) + Math.log(uniform);
  return Math.max(-LLR_BOUND, Math.min(LLR_BOUND, llr));
}

function runnerUp(g: LangGuess): string {
  const r = g.candidates[1];
  return r ? `runner-up ${r.lang} ${pct(r.p)}` : 'no runner-up';
}

/** A fastText model's guess in the shape of the built-in one. */
function fastTextGuess(ft: FastTextIdentifier, text: string, focus: readonly string[]): LangGuess {
  const { script, letters } = scriptCounts(text);
  const cands = letters === 0 ? [] : ft.predict(text, 5);
  const top = cands[0];
  if (!top) return { tag: 'und_Zyyy', lang: 'und', script, confidence: 0, decidedBy: 'fasttext', candidates: [], shares: null, languages: 0, focus: [] };
  const s = top.script ?? script;
  const p = Math.round(top.p * 1000) / 1000;
  const candidates = cands.map((c) => ({ lang: c.lang, p: Math.round(c.p * 1000) / 1000 }));
  // A fastText model reports its top k only: a language outside them counts as improbable. Its
  // probabilities already carry its training data's priors, so no uniform prior is corrected
  // (languages 0 leaves only the target prior's odds).
  return { tag: `${top.lang}_${s}`, lang: top.lang, script: s, confidence: p, decidedBy: 'fasttext', candidates, shares: null, languages: 0, focus: focused(cands, focus) };
}

/** Where a `builtin+fasttext` pair trusts fastText alone. */
const FASTTEXT_CONFIDENT = 0.9;

async function identifier(cfg: LangIdConfig, env: StageEnv): Promise<(text: string) => LangGuess> {
  const file = fastTextPath(cfg.model, env.baseDir);
  const ft = file ? await loadFastText(file) : null;
  const builtin = !cfg.model.startsWith('fasttext:');
  const cld3 = builtin ? await loadCld3() : null;
  // The built-in ensemble's third member: lid.176 as fasttext.wasm.js ships it (no download).
  const lid = builtin && cfg.model !== 'builtin-fast' ? await loadFastText(BUNDLED_LID176) : null;
  const focus = focusLanguages(cfg.target);
  if (ft && !builtin) return (t) => fastTextGuess(ft, t, focus);
  if (!ft) return (t) => identify(cld3, t, focus, lid);
  return (t) => {
    const f = fastTextGuess(ft, t, focus);
    return f.confidence >= FASTTEXT_CONFIDENT ? f : identify(cld3, t, focus, lid);
  };
}

/** Loads (and so checks) a configured fastText model before any row is read. */
export async function preflightLangId(cfg: LangIdConfig, env: StageEnv): Promise<void> {
  const file = fastTextPath(cfg.model, env.baseDir);
  if (file) await loadFastText(file);
}

/**
 * Language ID on every row (see langid/ensemble.ts): lang_pred (ISO 639-3 plus script, e.g.
 * yor_Latn), lang_conf (calibrated), lang_by (which identifier decided), lang_detail (the runner-up
 * and, with targets, why the row was kept or rejected) and lang_shares (a mixed document's share
 * per language). With targets and no reference model, rows the evidence places in another
 * language are rejected as lang_mismatch (action: reject) or kept with their tag (action: tag);
 * with a reference, the decision waits for the corpus-adapted model (a barrier stage).
 */
export function langIdStage(cfg: LangIdConfig, env: StageEnv): Stage {
  return async function* (input) {
    const id = await identifier(cfg, env);
    const decide = cfg.target.length > 0 && cfg.action === 'reject' && cfg.reference === undefined;
    for await (const b of input) {
      const pred: (string | null)[] = new Array(b.size).fill(null);
      const conf: (number | null)[] = new Array(b.size).fill(null);
      const by: (string | null)[] = new Array(b.size).fill(null);
      const detail: (string | null)[] = new Array(b.size).fill(null);
      const shares: (string | null)[] = new Array(b.size).fill(null);
      const llr: (number | null)[] = new Array(b.size).fill(null);
      for (let i = 0; i < b.size; i++) {
        const t = b.text[i];
        if (b.reason[i] !== null || t === null || t === undefined) continue;
        const g = id(t);
        pred[i] = g.tag;
        conf[i] = g.confidence;
        by[i] = g.decidedBy;
        shares[i] = g.shares ? JSON.stringify(g.shares) : null;
        const v = cfg.target.length > 0 ? targetVerdict(g, cfg) : null;
        detail[i] = v ? `${runnerUp(g)}; ${v.why}` : runnerUp(g);
        llr[i] = v?.llr ?? null;
        if (decide && v && !v.keep) reject(b, i, 'lang_mismatch', `lang_pred=${v.why}, ${runnerUp(g)} (${g.decidedBy}); target ${cfg.target.join(',')}`);
      }
      Object.assign(b.extra, { lang_pred: pred, lang_conf: conf, lang_by: by, lang_detail: detail, lang_shares: shares, lang_target_llr: llr });
      yield b satisfies Batch;
    }
  };
}
