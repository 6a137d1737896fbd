import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir } from '../helpers.js';

// Debian's Chromium (.ci/run installs it when missing); CHROMIUM_PATH overrides.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-sync',
  '--no-first-run',
  '--metrics-recording-only',
  '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication',
];

let out: string;
let outB: string;

beforeAll(async () => {
  const dir = tempDir();
  out = path.join(dir, 'quickstart');
  outB = path.join(dir, 'quickstart-small');
  // The quickstart as `npm start` runs it, and a second run with a smaller budget to compare with.
  // One after the other: concurrent runs of the same model would contend for its embedding cache.
  const a = await runCli(['run', 'pipelines/quickstart.yaml', '--out', out, '--quiet'], { timeoutMs: 400_000 });
  const b = await runCli(['run', 'pipelines/quickstart.yaml', '--out', outB, '--budget-tokens', '60000', '--quiet'], { timeoutMs: 400_000 });
  expect(a.stderr).toBe('');
  expect(a.code).toBe(0);
  expect(b.code).toBe(0);
}, 600_000);

describe('report.html', () => {
  it('renders in headless Chromium: no console errors, no network, every chart has data', async () => {
    const file = path.join(out, 'report.html');
    expect(existsSync(file)).toBe(true);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(file).href;
      await page.goto(url, { waitUntil: 'load' });
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
      const charts = await page.$$eval('svg.chart', (els) => els.map((e) => ({ name: e.getAttribute('data-chart'), marks: e.querySelectorAll('.mark').length })));
      expect(charts.map((c) => c.name)).toEqual(
        expect.arrayContaining(['funnel', 'reasons', 'share-language', 'share-source', 'budget-split', 'compute-optimal', 'hist-select_value', 'hist-typicality', 'hist-margin', 'hist-quality.mean_word_length', 'hist-tokens', 'embedding-map']),
      );
      for (const c of charts) expect(c.marks, c.name!).toBeGreaterThan(0);
      // The map marks duplicates and selected rows; the reasons link to their queries.
      const groups = await page.$$eval('svg[data-chart="embedding-map"] circle.mark', (els) => [...new Set(els.map((e) => e.getAttribute('fill')))]);
      expect(groups.length).toBeGreaterThanOrEqual(3);
      // The legend sits right of every point (it covered some before), and histograms have a labelled y axis.
      const map = await page.$$eval('svg[data-chart="embedding-map"]', ([svg]) => ({
        maxDot: Math.max(...[...svg!.querySelectorAll('circle.mark')].map((c) => Number(c.getAttribute('cx')) + 2.6)),
        legendX: Math.min(...[...svg!.querySelectorAll('rect.legend')].map((r) => Number(r.getAttribute('x')))),
      }));
      expect(map.maxDot).toBeLessThan(map.legendX);
      const ticks = await page.$$eval('svg[data-chart="hist-tokens"] text.tick', (els) => els.map((e) => e.textContent));
      expect(ticks[0]).toBe('0.0%');
      expect(ticks).toHaveLength(3);
      expect(ticks.every((t) => /^\d+(\.\d)?%$/.test(t ?? ''))).toBe(true);
      const links = await page.$$eval('svg[data-chart="reasons"] a', (els) => els.map((e) => e.getAttribute('href')));
      expect(links).toContain('#reason-exact_dup');
      for (const href of links) expect(await page.locator(href!).count()).toBe(1);
      expect(await page.locator('#reason-over_budget code').textContent()).toContain("where reason = 'over_budget'");
      const dir = path.join(ROOT, 'test-output');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: path.join(dir, 'report-quickstart.png'), fullPage: true });
      expect(existsSync(path.join(dir, 'report-quickstart.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  });

  it('is self-contained and small, and `winnow report` rebuilds it identically', async () => {
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|src=|url\(|https?:\/\//i);
    expect(html.length).toBeLessThan(2_000_000);
    const again = path.join(tempDir(), 'r.html');
    const r = await runCli(['report', out, '--out', again]);
    expect(r.code).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(html);
    expect((await runCli(['report', path.join(out, 'nope')])).code).toBe(3);
  });
});

describe('notebooks', () => {
  const books = readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb'));

  it('ships notebooks for dropped rows, duplicate clusters, the budget per language and comparing runs', () => {
    expect(books.sort()).toEqual(['budget-per-language.ipynb', 'compare-runs.ipynb', 'duplicate-clusters.ipynb', 'why-dropped.ipynb']);
  });

  it.each(books)('%s runs against the quickstart and its assertions pass', async (book) => {
    const r = await runCli(['notebook', path.join('notebooks', book), '--run', out, '--compare', outB], { timeoutMs: 120_000 });
    expect(r.stderr).not.toMatch(/AssertionError|Error:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('── cell');
  });
});
