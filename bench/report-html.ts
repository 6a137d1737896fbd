import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../src/util/versions.js';
import { runDefaultInChild } from './child.js';
import { writeShortTextCorpus } from './corpus.js';
import { fmt, table, writeSection } from './report.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * report.html of a 1,000,000-row run (generated short texts in 12 languages, embed + select + a
 * token budget; language ID off, as its ~600 rows/s would dominate): its size, and its load time in
 * headless Chromium (navigation start to the load event, best of 3 fresh pages).
 */
export async function benchReport(): Promise<void> {
  const dir = path.join(PROJECT_ROOT, '.bench', 'report');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const input = path.join(dir, 'corpus-1m.jsonl');
  const rows = 1_000_000;
  await writeShortTextCorpus(input, rows);
  const out = path.join(dir, 'out');
  const run = runDefaultInChild(input, out, { stages: { langid: { enabled: false }, budget: { target: { tokens: 5_000_000 } } } });
  const file = path.join(out, 'report.html');
  const bytes = statSync(file).size;
  let load = 'Chromium not installed';
  let loadMs: number;
  if (existsSync(CHROMIUM)) {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage();
        await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
        times.push(Number(await page.evaluate('performance.getEntriesByType("navigation")[0].loadEventEnd')));
        await page.close();
      }
      loadMs = Math.min(...times);
      load = `${(loadMs / 1000).toFixed(2)} s`;
    } finally {
      await browser.close();
    }
  }
  console.log(`  report: ${(bytes / 1e6).toFixed(2)} MB, load ${load}, run ${run.seconds.toFixed(0)} s`);
  writeSection(
    'report',
    `## Report: report.html of a 1,000,000-row run

Generated short texts (windows of SIB-200 sentences, 12 languages), default pipeline with language ID off, built-in
embeddings, the hybrid selection and a 5M-token budget. Load time = navigation start to the load event in headless
Chromium (best of 3 fresh pages). Targets: under 5 MB, under 3 s.

${table(
  ['rows', 'report size', 'load time', 'report phase', 'whole run', 'run peak RSS'],
  [[fmt(rows), `${(bytes / 1e6).toFixed(2)} MB`, load, `${(run.phases.report ?? NaN).toFixed(1)} s`, `${fmt(run.seconds, 0)} s`, `${fmt(run.maxRssMB)} MB`]],
)}

Stage seconds: ${run.stages.map((s) => `${s.stage} ${s.seconds.toFixed(1)}`).join(', ')}.`,
  );
  rmSync(input, { force: true });
}
