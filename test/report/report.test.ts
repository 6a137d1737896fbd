import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { chromium, type Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { STORE_TABLES } from '../../src/store/tables.js';
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

// Browser globals of the page.evaluate callbacks (this project compiles without the DOM library).
declare const document: { createElement(tag: string): { className: string; id: string; textContent: string }; body: { append(e: unknown): void } };
declare function getComputedStyle(e: unknown): { fill: string; display: string };

let out: string;
let outB: string;
let startStderr: string;

/** Families fontconfig says have a glyph for the code point (what Chromium can draw it with). */
function familiesCovering(codePoint: number): Set<string> {
  const r = spawnSync('fc-list', [`:charset=${codePoint.toString(16)}`, 'family'], { encoding: 'utf8' });
  return new Set(
    r.stdout
      .split('\n')
      .flatMap((l) => l.split(','))
      .map((f) => f.trim())
      .filter(Boolean),
  );
}

/**
 * An Amharic sentence from the shipped sample and an emoji, in the report's own styles, are drawn
 * with fonts that have their glyphs (not the UI font's empty boxes): Chromium says which platform
 * fonts drew a node's text.
 */
async function noTofu(page: Page): Promise<void> {
  // Only Ethiopic letters (spaces and digits may come from the UI font, which is right for them).
  const amharic = (JSON.parse(readFileSync(path.join(ROOT, 'datasets/sib200/amh_Ethi.jsonl'), 'utf8').split('\n')[0]!) as { text: string }).text.replace(/[^\u1200-\u139f]/gu, '');
  await page.evaluate(
    ([am]) => {
      for (const [id, text] of [
        ['probe-amh', am],
        ['probe-emoji', '\u{1F30D}'],
        ['probe-emoji-face', '\u{1F600}'],
      ] as const) {
        const div = document.createElement('div');
        div.className = 'ex';
        div.id = id;
        div.textContent = text!;
        document.body.append(div);
      }
    },
    [amharic],
  );
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
  for (const [id, codePoint] of [
    ['probe-amh', 0x1200],
    ['probe-emoji', 0x1f30d],
    ['probe-emoji-face', 0x1f600],
  ] as const) {
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: `#${id}` });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    const covering = familiesCovering(codePoint);
    expect(covering.size, `no installed font covers U+${codePoint.toString(16)} (npm test's pretest installs them)`).toBeGreaterThan(0);
    const drawnBy = fonts.filter((f) => f.glyphCount > 0).map((f) => f.familyName);
    expect(drawnBy.length, id).toBeGreaterThan(0);
    for (const f of drawnBy) expect(covering, `${id} drawn with ${f}`).toContain(f);
  }
}

beforeAll(async () => {
  const dir = tempDir();
  out = path.join(dir, 'quickstart');
  outB = path.join(dir, 'quickstart-small');
  // The quickstart as `npm start` runs it, and a second run with a smaller budget to compare with.
  // One after the other: concurrent runs of the same model would contend for its embedding cache.
  const a = await runCli(['run', 'pipelines/quickstart.yaml', '--out', out], { timeoutMs: 400_000 });
  const b = await runCli(['run', 'pipelines/quickstart.yaml', '--out', outB, '--budget-tokens', '60000', '--quiet'], { timeoutMs: 400_000 });
  expect(a.code).toBe(0);
  expect(b.stderr).toBe('');
  expect(b.code).toBe(0);
  startStderr = a.stderr;
}, 600_000);

describe('the quickstart (npm start)', () => {
  it('the quickstart pipeline runs on the shipped sample and prints a summary', async () => {
    expect(startStderr).toMatch(/rows read\s+8,147/);
    expect(startStderr).toMatch(/where_filter\s+1,337/);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.counts.reconciled).toBe(true);
    expect(manifest.inputs.map((i: { source: string }) => i.source)).toEqual(['sib200', 'sib200', 'sib200', 'afrisenti_twi', 'ud_yor']);
    const q = await runCli(['query', out, 'select count(*) as n from selection', '--format', 'json']);
    expect(Number(JSON.parse(q.stdout)[0].n)).toBe(manifest.counts.selected);
    // Every table and view of the store is listed (with its kind) in the registry `query --help` prints.
    const objects = await runCli([
      'query',
      out,
      `select table_name n, 'table' k from duckdb_tables() where not temporary union all select view_name, 'view' from duckdb_views() where not internal and not temporary`,
      '--format',
      'json',
    ]);
    const found = JSON.parse(objects.stdout) as { n: string; k: string }[];
    expect(found.length).toBeGreaterThan(15);
    for (const o of found) expect(STORE_TABLES[o.n]?.kind, o.n).toBe(o.k);
    const help = await runCli(['query', '--help']);
    for (const name of Object.keys(STORE_TABLES)) expect(help.stdout).toContain(`  ${name}`);
  });
});

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
        expect.arrayContaining([
          'funnel',
          'reasons',
          'share-language',
          'share-source',
          'budget-split',
          'compute-optimal',
          'hist-select_value',
          'hist-typicality',
          'hist-margin',
          'hist-quality.mean_word_length',
          'hist-tokens',
          'embedding-map',
        ]),
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
      // The map can be colored by language instead of status: a CSS-only switch, with its own legend.
      const fills = (): Promise<string[]> => page.$$eval('svg[data-chart="embedding-map"] circle.mark', (els) => [...new Set(els.map((e) => getComputedStyle(e).fill))]);
      const byStatus = await fills();
      await page.click('label[for="embedding-map-by-1"]');
      const byLang = await fills();
      expect(byLang.length).toBeGreaterThanOrEqual(4); // yor, hau, amh, twi
      expect(byLang).not.toEqual(byStatus);
      const legend = await page.$$eval('svg[data-chart="embedding-map"] g.lg1 text', (els) => els.map((e) => (getComputedStyle(e).display === 'none' ? null : e.textContent)));
      expect(legend).toEqual(expect.arrayContaining(['amh_Ethi', 'yor_Latn', 'hau_Latn', 'twi_Latn']));
      expect(await page.$eval('svg[data-chart="embedding-map"] g.lg0', (e) => getComputedStyle(e).display)).toBe('none');
      await page.click('label[for="embedding-map-by-0"]');
      await noTofu(page);
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
    // A manifest.json that is not a winnow run's (here without its counts) is named with the missing field.
    const foreign = tempDir();
    copyFileSync(path.join(out, 'results.duckdb'), path.join(foreign, 'results.duckdb'));
    const { counts: _counts, ...manifest } = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(foreign, 'manifest.json'), JSON.stringify(manifest));
    const broken = await runCli(['report', foreign]);
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/manifest\.json is not a winnow run manifest: counts: /);
    // Any column of samples can color the map; an unknown one is named with the ones there are.
    const byLabel = await runCli(['report', out, '--out', again, '--color-by', 'label']);
    expect(byLabel.code).toBe(0);
    expect(readFileSync(again, 'utf8')).toContain('<label for="embedding-map-by-3">label</label>');
    const bad = await runCli(['report', out, '--out', again, '--color-by', 'labl']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no column "labl".*label/);
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
