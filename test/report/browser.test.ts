// The report in a real headless Chromium (Debian's, installed by scripts/ensure-chromium.sh):
// the page loads with no console errors and no requests beyond itself, every chart draws marks
// with a real size, the heatmaps carry S and w on hover, and a screenshot lands in out/test-report/.
// (The page functions run in the browser; the DOM types are spelled out locally: tsconfig has no DOM lib.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { writeFixtureCompare } from './fixture.ts';

const CHROMIUM = process.env.PGPO_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '../..');
const OUT = join(ROOT, 'out/test-report');

describe('pgpo report in headless Chromium', () => {
  let context: BrowserContext | undefined;
  let userData = '';
  const work = mkdtempSync(join(tmpdir(), 'pgpo-report-'));
  const reportPath = join(OUT, 'report.html');

  before(async () => {
    if (!existsSync(CHROMIUM)) return; // the test below fails and says why
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    writeFixtureCompare(join(work, 'cmp'));
    // the command as a user runs it
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/pgpo.js'), 'report', join(work, 'cmp'), '--out', reportPath], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote .*report\.html .* 2 run\(s\), 1 comparison table/);
    userData = mkdtempSync(join(tmpdir(), 'pgpo-chromium-'));
    // a fresh profile per run: playwright takes it as launchPersistentContext's userDataDir
    context = await chromium.launchPersistentContext(userData, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      deviceScaleFactor: 1,
      timeout: 20_000,
    });
  });

  after(async () => {
    await context?.close();
    if (userData) rmSync(userData, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('loads cleanly, renders every chart and heatmap, and saves a screenshot', async () => {
    if (!existsSync(CHROMIUM)) {
      assert.fail(
        `Chromium is missing at ${CHROMIUM}: the report's browser check cannot run. ` +
          'Run `sh scripts/ensure-chromium.sh` (npm test runs it as pretest; it needs root or password-less sudo and network for apt-get), ' +
          'or point PGPO_CHROMIUM at a Chromium binary.',
      );
    }
    const page = await context!.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    const failed: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    const url = pathToFileURL(reportPath).href;
    const response = await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
    assert.ok(response?.ok(), 'the report file loads');

    const charts = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((svg) => {
        const title = svg.getAttribute('aria-label') ?? '?';
        const marks = [...svg.querySelectorAll('path.mark')].map((p) => {
          const b = (p as unknown as { getBBox(): { width: number; height: number } }).getBBox();
          return { d: p.getAttribute('d') ?? '', w: b.width, h: b.height };
        });
        const box = svg.getBoundingClientRect();
        return { title, empty: svg.classList.contains('empty'), marks, width: box.width, height: box.height };
      }),
    );
    // 4 curves, 2 histograms + concentration, class and variant bars, pg_var bars and over time
    assert.ok(charts.length >= 11, `expected at least 11 charts, found ${charts.length}: ${charts.map((c) => c.title).join(' | ')}`);
    for (const c of charts) {
      assert.equal(c.empty, false, `chart "${c.title}" has no data`);
      assert.ok(c.width > 100 && c.height > 50, `chart "${c.title}" is laid out (${c.width}x${c.height})`);
      assert.ok(c.marks.length > 0, `chart "${c.title}" draws marks`);
      assert.ok(
        c.marks.some((m) => m.d.length > 0 && m.w > 0 && m.h > 0),
        `chart "${c.title}": no mark has a non-zero bounding box`,
      );
    }

    const table = await page.$$eval('table.compare tr', (rows) => rows.length);
    assert.ok(table >= 4, 'the comparison table has a header and a row per algorithm');

    const images = await page.$$eval('img.thumb', (imgs) =>
      imgs.map((i) => ({ ok: (i as unknown as { complete: boolean }).complete && (i as unknown as { naturalWidth: number }).naturalWidth === 48, src: i.getAttribute('src')!.slice(0, 22) })),
    );
    assert.ok(images.length >= 4, `example images shown (${images.length})`);
    for (const im of images) {
      assert.ok(im.ok, "each rollout image decodes as the model's 48x48 PNG");
      assert.equal(im.src, 'data:image/png;base64,');
    }
    const tokens = await page.$$eval('.response .tok', (spans) =>
      spans.map((s) => ({ title: s.getAttribute('title') ?? '', bg: (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(s).backgroundColor })),
    );
    assert.ok(tokens.length > 50, 'heatmap tokens rendered');
    assert.ok(
      tokens.every((t) => /^S=\S+ · w=\S+ · [a-z-]+$/.test(t.title)),
      'every token carries S, w and its class on hover',
    );
    assert.ok(new Set(tokens.map((t) => t.bg)).size > 5, 'tokens are coloured by S, not all alike');

    await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
    await page.screenshot({ path: join(OUT, 'report-top.png') });
    await page.close();

    assert.deepEqual(errors, [], 'no console errors or warnings');
    assert.deepEqual(failed, [], 'no failed requests');
    assert.deepEqual(
      requests.filter((u) => u !== url && !u.startsWith('data:')),
      [],
      'no request beyond the file itself',
    );
    assert.ok(readFileSync(join(OUT, 'report.png')).length > 10_000, 'screenshot saved');
    writeFileSync(
      join(OUT, 'charts.json'),
      JSON.stringify(
        charts.map((c) => ({ title: c.title, marks: c.marks.length })),
        null,
        2,
      ),
    );
  });
});
