import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { barChart, lineChart, niceTicks } from '../../src/report/charts.ts';
import { escapeHtml, pngDataUri } from '../../src/report/escape.ts';
import { renderReport } from '../../src/report/html.ts';
import { loadInputs } from '../../src/report/run-data.ts';
import { writeFixtureCompare, writeFixtureRun } from './fixture.ts';

/** Adds to a fixture's classic eval.json what `pgpo eval` writes on the ladder world (src/eval/evaluate.ts). */
function withLadder(file: string, ladder: { by_rung: object; prior: object; prior_by_rung: object }, to = file): void {
  writeFileSync(to, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...ladder }));
}

/** The ladder table of a page, or null. */
function ladderTableOf(html: string): string | null {
  const from = html.indexOf('<h3>Ladder world');
  return from < 0 ? null : html.slice(from, html.indexOf('</table>', from));
}

/** A table row's cells as text (the prior's sample count after a space), found by its row label. */
function cellsOf(table: string, label: string): string[] {
  const row = table.split('<tr>').find((r) => r.includes(`</span>${label}<`) || r.includes(`<th scope="row">${label}<`));
  assert.ok(row, `a row for ${label}`);
  return [...row.matchAll(/<td class="num"[^>]*>(.*?)<\/td>/g)].map((m) => m[1].replace('<span class="ci">', ' ').replace('</span>', ''));
}

describe('report page', () => {
  it('escapes everything a run wrote and refuses a non-PNG image payload', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pgpo-html-')), 'evil"<run>-seed0');
    writeFixtureRun(dir, { algo: 'pgpo', seed: 0, steps: 12 });
    const file = join(dir, 'rollouts', 'step-000012.jsonl');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    lines[0].problem = '<script>alert(1)</script>';
    lines[0].pieces[1] = '<img src=x onerror=alert(1)>';
    lines[0].image_png = '"><script>x</script>';
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const html = renderReport({ ...loadInputs([dir]), generated: 'now' });
    assert.ok(!html.includes('<script'), 'no script element');
    assert.ok(!html.includes('<img src=x'), 'no injected element');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('evil&quot;&lt;run&gt;-seed0'));
    assert.ok(html.includes('no image'));
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'no external resource');
  });
  it('shows pg_var only for the runs that measured it', () => {
    const root = mkdtempSync(join(tmpdir(), 'pgpo-html-'));
    const pgpo = join(root, 'pgpo-seed0');
    const dapo = join(root, 'dapo-seed0');
    writeFixtureRun(pgpo, { algo: 'pgpo', seed: 0, steps: 10 });
    writeFixtureRun(dapo, { algo: 'dapo', seed: 0, steps: 10 });
    // the DAPO run as trainer.pg_var_freq = 0 writes it: no pg_var key at all
    const metrics = join(dapo, 'metrics.jsonl');
    const rows = readFileSync(metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    writeFileSync(metrics, rows.map(({ pg_var: _, ...r }) => JSON.stringify(r)).join('\n') + '\n');
    const html = renderReport({ ...loadInputs([pgpo, dapo]), generated: 'x' });
    const [from, to] = [html.indexOf('id="variance"'), html.indexOf('id="heatmaps"')];
    assert.ok(from > 0 && to > from, 'the variance section is where the test looks');
    const section = html.slice(from, to);
    assert.ok(section.includes('<th scope="row">pgpo</th>'));
    assert.ok(!section.includes('<th scope="row">dapo</th>'), 'no row for a run without pg_var');
    assert.ok(!section.includes('NaN'));
    assert.match(section, /1 other run\(s\) logged no finite <code>pg_var<\/code>/);
  });
  it('charts the learned logit scale only when a run logged it', () => {
    const root = mkdtempSync(join(tmpdir(), 'pgpo-html-'));
    const run = join(root, 'pgpo-seed0');
    writeFixtureRun(run, { algo: 'pgpo', seed: 0, steps: 10 });
    assert.ok(!renderReport({ ...loadInputs([run]), generated: 'now' }).includes('Learned logit scale'), 'runs from before the scale: no chart');
    const metrics = join(run, 'metrics.jsonl');
    const rows = readFileSync(metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    writeFileSync(metrics, rows.map((r, i) => JSON.stringify({ ...r, logit_scale: 1 + 0.05 * i })).join('\n') + '\n');
    const html = renderReport({ ...loadInputs([run]), generated: 'now' });
    assert.ok(html.includes('Learned logit scale'));
    assert.ok(html.includes('inverse temperature'));
  });
  it("shows a ladder evaluation's accuracy per rung and its share of misleading-prior answers, and nothing of it for a classic one", () => {
    const root = mkdtempSync(join(tmpdir(), 'pgpo-html-'));
    const ladder = join(root, 'pgpo-seed0');
    const classic = join(root, 'dapo-seed0');
    writeFixtureRun(ladder, { algo: 'pgpo', seed: 0, steps: 10 });
    writeFixtureRun(classic, { algo: 'dapo', seed: 0, steps: 10 });
    const before = renderReport({ ...loadInputs([ladder, classic]), generated: 'x' });
    assert.equal(ladderTableOf(before), null, 'classic evaluations: no ladder table');
    assert.ok(!before.includes('misleading prior'));
    // rung 2: 10% of its 80 misleading samples answered the prior, rung 3: 32.5% of 160; overall 60 / 240 = 25%
    withLadder(join(ladder, 'eval.json'), {
      by_rung: { 'rung 2': { accuracy: 0.75, n: 40 }, 'rung 3': { accuracy: 0.4, n: 60 } },
      prior: { n: 240, rate: 0.25 },
      prior_by_rung: { 'rung 2': { n: 80, rate: 0.1 }, 'rung 3': { n: 160, rate: 0.325 } },
    });
    const table = ladderTableOf(renderReport({ ...loadInputs([ladder, classic]), generated: 'x' }));
    assert.ok(table);
    assert.ok(table.includes('accuracy (%)<span class="ci">of all samples</span>'));
    assert.ok(table.includes('answered the misleading prior (%)<span class="ci">of the samples of problems whose prior misleads</span>'));
    assert.match(table, /<th>rung 2<\/th><th>rung 3<\/th><th>all<\/th><th>rung 2<\/th><th>rung 3<\/th>/);
    assert.deepEqual(cellsOf(table, 'pgpo-seed0'), ['75.0', '40.0', '25.0 of 240', '10.0 of 80', '32.5 of 160']);
    assert.ok(!table.includes('dapo-seed0'), 'no row for the classic run');
  });
  it("shows a comparison's differences and, per arm, its pooled ladder numbers, the base's eval-only folder included", () => {
    const p = join(mkdtempSync(join(tmpdir(), 'pgpo-html-')), 'cmp');
    writeFixtureCompare(p, { steps: 10 });
    const classic = renderReport({ ...loadInputs([p]), generated: 'x' });
    assert.equal(ladderTableOf(classic), null, 'a classic comparison: no ladder table');
    assert.ok(!classic.includes('<th>difference</th>'), 'a compare.json from before the differences: no such table');

    const table = JSON.parse(readFileSync(join(p, 'compare.json'), 'utf8'));
    const differences = [
      { a: 'pgpo', b: 'dapo', diff: 0.04, lo: -0.01, hi: 0.09, df: 3.2 },
      { a: 'pgpo', b: 'base', diff: 0.28, lo: 0.2, hi: 0.36, df: 2.5 },
      { a: 'dapo', b: 'base', diff: 0.24, lo: null, hi: null, df: null },
    ];
    writeFileSync(join(p, 'compare.json'), JSON.stringify({ ...table, eval_seeds: 2, differences }));
    const rung3 = (accuracy: number, rate: number) => ({ by_rung: { 'rung 3': { accuracy, n: 50 } }, prior: { n: 400, rate }, prior_by_rung: { 'rung 3': { n: 400, rate } } });
    // the base arm's folder holds its evaluation only (compare trains nothing for it)
    mkdirSync(join(p, 'runs', 'base-seed0'));
    const pgpoEval = join(p, 'runs', 'pgpo-seed0', 'eval.json');
    withLadder(pgpoEval, rung3(0.3, 0.5), join(p, 'runs', 'base-seed0', 'eval.json'));
    // pgpo: two sampling seeds pooled (eval_seeds 2); an eval-seed2000.json left by an earlier compare is not
    withLadder(pgpoEval, rung3(0.7, 0.3), join(p, 'runs', 'pgpo-seed0', 'eval-seed1000.json'));
    withLadder(pgpoEval, rung3(0, 0.9), join(p, 'runs', 'pgpo-seed0', 'eval-seed2000.json'));
    withLadder(pgpoEval, rung3(0.6, 0.2));
    const html = renderReport({ ...loadInputs([p]), generated: 'x' });
    assert.match(html, /<th scope="row">pgpo − dapo<\/th><td class="num">\+4\.0<\/td><td class="num">-1\.0 to \+9\.0<\/td><td>not told apart<\/td>/);
    assert.match(html, /<th scope="row">pgpo − base<\/th><td class="num">\+28\.0<\/td><td class="num">\+20\.0 to \+36\.0<\/td><td>pgpo ahead<\/td>/);
    assert.match(html, /<th scope="row">dapo − base<\/th><td class="num">\+24\.0<\/td><td class="num">–<\/td><td>no interval/);
    assert.match(html, /each run's 2 evaluations pooled/);
    const ladder = ladderTableOf(html);
    assert.ok(ladder);
    assert.equal(html.split('<h3>Ladder world').length, 2, "one ladder table: the comparison's runs show by arm only");
    assert.deepEqual(cellsOf(ladder, 'base'), ['30.0', '50.0 of 400']);
    // (0.6 + 0.7) / 2 over 100 problems; (0.2 + 0.3) / 2 over 800 samples
    assert.deepEqual(cellsOf(ladder, 'pgpo'), ['65.0', '25.0 of 800']);
    assert.ok(ladder.includes('<tr><th>rung 3</th><th>all</th></tr>'), 'one rung: its prior share is the overall one, not repeated');
    assert.ok(ladder.includes('2 evaluation(s)'));
    assert.ok(ladder.indexOf('>base<') < ladder.indexOf('>pgpo<'), "in the compare table's row order");
    assert.ok(!ladder.includes('>dapo<'), 'no row for an arm without ladder data');
  });
  it('is deterministic for the same input', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pgpo-html-')), 'dapo-seed1');
    writeFixtureRun(dir, { algo: 'dapo', seed: 1, steps: 15, collapse: true });
    const a = renderReport({ ...loadInputs([dir]), generated: 'x' });
    const b = renderReport({ ...loadInputs([dir]), generated: 'x' });
    assert.equal(a, b);
  });
  it('helpers: escaping, data URIs, ticks, empty charts', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(pngDataUri('iVBORw0KGgoAAAANSUhEUg=='), 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==');
    assert.equal(pngDataUri('R0lGODlhAQABAAAAACw='), null); // a GIF is not a PNG
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.match(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] }), /class="chart empty"/);
    assert.match(barChart({ title: 't', yLabel: 'y', categories: ['a'], groups: [{ name: 'g', color: '#000', values: [0.5] }] }), /<path class="mark" d="M/);
  });
});
