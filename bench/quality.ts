import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QualitySchema } from '../src/config/schema.js';
import { evaluateQuality, type CleanGroup, type QualityEvalResult } from './eval/quality-eval.js';
import { plantedJunk } from './eval/quality-junk.js';
import { measureDocument } from '../src/quality/metrics.js';
import { qualityVerdict } from '../src/quality/verdict.js';
import { PROJECT_ROOT } from '../src/util/versions.js';
import { fmt, table, writeSection } from './report.js';
import { systemMessages } from './system-text.js';

const SHARED = path.join(PROJECT_ROOT, '..', 'shared', 'datasets');
/** Locales of this machine's program translations: scripts and languages the shared datasets lack. */
const SYSTEM_LOCALES = [
  'th',
  'ja',
  'zh_CN',
  'ko',
  'km',
  'my',
  'lo',
  'dz',
  'si',
  'hi',
  'bn',
  'ta',
  'ka',
  'hy',
  'el',
  'he',
  'ar',
  'fa',
  'ru',
  'uk',
  'vi',
  'tr',
  'fi',
  'hu',
  'eu',
  'is',
  'ga',
  'cy',
  'xh',
  'zu',
];

function sharedGroups(): CleanGroup[] {
  const groups: CleanGroup[] = [];
  for (const set of ['sib200', 'afrisenti', 'ud-text', 'tatoeba-laser']) {
    for (const f of readdirSync(path.join(SHARED, set))
      .filter((f) => f.endsWith('.jsonl'))
      .sort()) {
      const texts = readFileSync(path.join(SHARED, set, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { text: string }).text);
      groups.push({ name: `${set}/${f.replace('.jsonl', '')}`, texts });
    }
  }
  return groups;
}

/** Clean sentences per script, the material of the planted junk. */
function junkMaterial(groups: CleanGroup[]): Record<string, string[]> {
  const by = (names: string[]) => groups.filter((g) => names.includes(g.name)).flatMap((g) => g.texts);
  return {
    Latn: by(['sib200/yor_Latn', 'sib200/hau_Latn', 'afrisenti/kin']),
    Cyrl: by(['tatoeba-laser/kaz-eng', 'tatoeba-laser/tat-eng']),
    Ethi: by(['sib200/amh_Ethi', 'sib200/tir_Ethi']),
    Khmr: by(['tatoeba-laser/khm-eng']),
    Arab: by(['tatoeba-laser/uig-eng']),
    Thai: systemMessages('th'),
    Grek: systemMessages('el'),
  };
}

const pct = (a: number, b: number): string => (b === 0 ? '-' : `${fmt((100 * a) / b, 2)}%`);
const reasons = (r: Record<string, number>): string =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '-';

/** Throughput of the streaming measures and verdict alone, one core, on the given texts. */
function streamingRate(texts: string[]): number {
  const cfg = QualitySchema.parse({});
  const t0 = performance.now();
  for (const t of texts) qualityVerdict(measureDocument(t, null, cfg.boilerplate_patterns).metrics, cfg);
  return texts.length / ((performance.now() - t0) / 1000);
}

/**
 * Clean-text false rejections per language and planted-junk recall per kind, through the real
 * pipeline (language ID on, thresholds fitted from the corpus) over every row of the shared
 * datasets, program translations in 30 more locales and the junk mixed into one lake.
 */
export async function benchQuality(): Promise<void> {
  const shared = sharedGroups();
  const system = SYSTEM_LOCALES.map((l) => ({ name: `system/${l}`, texts: systemMessages(l) })).filter((g) => g.texts.length >= 30);
  const junk = plantedJunk(junkMaterial(shared), 60);
  const dir = mkdtempSync(path.join(tmpdir(), 'winnow-bench-quality-'));
  let res: QualityEvalResult;
  try {
    res = await evaluateQuality([...shared, ...system], junk, dir, { langid: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rate = streamingRate(shared.flatMap((g) => g.texts));
  const cleanRows = res.clean.map((g) => [g.name, fmt(g.rows), fmt(g.rejected), pct(g.rejected, g.rows), reasons(g.byReason)]);
  const worstOf = (sys: boolean) => res.clean.filter((g) => g.name.startsWith('system/') === sys).reduce((a, g) => Math.max(a, g.rejected / g.rows), 0);
  const junkRows = res.junk.map((j) => [j.kind, j.expected, fmt(j.rows), pct(j.right, j.rows), reasons(j.other)]);
  const worstJunk = res.junk.reduce((a, j) => Math.min(a, j.right / j.rows), 1);
  const total = res.clean.reduce((a, g) => a + g.rows, 0) + res.junk.reduce((a, j) => a + j.rows, 0);
  writeSection(
    'quality',
    `## Quality filters: clean text kept, junk caught

One run of the pipeline (language ID on, quality stage, thresholds fitted per language from the corpus; dedup,
embedding and selection off) over a lake of ${fmt(total)} rows in one file per group: every row of
\`../shared/datasets\` (SIB-200, AfriSenti, UD, Tatoeba), prose from this machine's program translations in
${system.length} more locales (languages, scripts and a register the datasets lack; \`/usr/share/locale\`), and
planted junk in 7 scripts (\`bench/eval/quality-junk.ts\`) scattered through the files. Clean rows rejected by a
quality reason, per group (target: at most 1% each): worst **${pct(worstOf(false), 1)}** over the shared datasets,
**${pct(worstOf(true), 1)}** over the other locales.

${table(['group', 'rows', 'rejected', 'share', 'reasons'], cleanRows)}

Planted junk rejected with the expected reason, per kind (target: at least 95% each): worst **${pct(worstJunk, 1)}**.

${table(['kind', 'expected reason', 'rows', 'caught', 'otherwise'], junkRows)}

Throughput: streaming measures and verdict **${fmt(rate)} rows/s** on one core (the shared datasets' rows); in the
run, the quality stage and the fitted thresholds took ${fmt(res.qualitySeconds, 1)} s of ${fmt(res.seconds, 1)} s.`,
  );
}
