import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { barChart, lineChart, niceTicks } from '../../src/report/charts.ts';
import { escapeHtml, pngDataUri } from '../../src/report/escape.ts';
import { renderReport } from '../../src/report/html.ts';
import { loadInputs } from '../../src/report/run-data.ts';
import { writeFixtureRun } from './fixture.ts';

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
