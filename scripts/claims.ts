/**
 * The paper's claims beyond the accuracy table, measured on the runs of one or more `pgpo compare`
 * folders (docs/analyses.md defines each estimator), as markdown tables on stdout, per folder:
 *   1. policy-gradient variance per arm (pg_var, and the paired pg_var / pg_var_uniform), per run too;
 *   2. the sparsity of S (top-10% share, Gini) on each run's first and latest tokens/ file;
 *   3. S by token class, pooled over an arm's latest tokens/ files;
 *   4. where PGPO's weights land: mean weight and the share of boosted (w > 1) tokens by class;
 *   5. S and weights by role in the response's layout (value name, written value, expression,
 *      result, template), whatever the values, with written values split into correct and misread.
 * Token analyses read tokens/step-*.jsonl only (every rollout of the step), not the few example
 * rollouts/ lines; an arm that writes no tokens/ (DAPO: no dependency is measured) is named in a note.
 *   node --import tsx scripts/claims.ts runs/ladder-compare-frozen runs/ladder-compare-scale [--json claims.json]
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, parseArgs, stringFlag } from '../src/cli/args.ts';
import { runScript } from './script-errors.ts';
import {
  dependencyByClass,
  dependencyByRole,
  dependencyHistogram,
  metricSeries,
  pgVarianceByAlgo,
  pgVarianceRatio,
  ROLE_ROW_LABELS,
  TOKEN_CLASS_LABELS,
  TOKEN_ROLES,
  weightByClass,
  weightByRole,
  type ClassStats,
  type ClassWeightStats,
  type PgVarianceRun,
  type PgVarianceSummary,
  type RoleStats,
  type RoleWeightStats,
} from '../src/report/analyses.ts';
import { loadCompare, readTokenFile, tokenFiles, type RunData, type TokenRecord } from '../src/report/run-data.ts';

const USAGE = 'usage: claims.ts COMPARE_DIR... [--json out.json]';

// ---------------------------------------------------------------------------------------------
// formatting

const dash = '–';
const fin = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);
const fix = (x: number | undefined, d = 3): string => (fin(x) ? x.toFixed(d) : dash);
const sig = (x: number | undefined): string => (fin(x) ? x.toPrecision(3) : dash);
const pct = (x: number | undefined): string => (fin(x) ? `${(100 * x).toFixed(1)}%` : dash);
const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** `mean [min–max]` of per-seed values (the finite ones), in the given format. */
function spread(xs: readonly number[], f: (x: number) => string): string {
  const v = xs.filter(fin);
  if (!v.length) return dash;
  if (v.length === 1) return f(v[0]);
  return `${f(mean(v))} [${f(Math.min(...v))}–${f(Math.max(...v))}]`;
}

/** min–max of per-seed values, or the one value. */
function range(xs: readonly number[], f: (x: number) => string): string {
  const v = xs.filter(fin);
  if (!v.length) return dash;
  return v.length === 1 ? f(v[0]) : `${f(Math.min(...v))}–${f(Math.max(...v))}`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// measuring

/** A compare run folder `<arm>-seed<k>`: the arm is the folder's name (an ablation arm's config names plain pgpo). */
interface ArmRun {
  readonly arm: string;
  readonly seed: number | null;
  readonly run: RunData;
}

interface TokenFile {
  readonly step: number;
  readonly records: TokenRecord[];
}

interface RunTokens extends ArmRun {
  readonly first: TokenFile | null;
  readonly latest: TokenFile | null;
}

function armOf(run: RunData): ArmRun {
  const m = /^(.*?)-seed(\d+)$/.exec(run.name);
  return { arm: m?.[1] ?? run.algo, seed: m ? Number(m[2]) : run.seed, run };
}

function readTokens(r: ArmRun): RunTokens {
  const files = tokenFiles(r.run.path);
  if (!files.length) return { ...r, first: null, latest: null };
  const last = files[files.length - 1];
  // loadRun already read the latest file
  const latest = { step: last.step, records: r.run.tokensStep === last.step ? r.run.tokens : readTokenFile(last.file) };
  const first = files.length > 1 ? { step: files[0].step, records: readTokenFile(files[0].file) } : latest;
  return { ...r, first, latest };
}

const withDep = (f: TokenFile | null): TokenRecord[] => (f ? f.records.filter((r) => r.dep.length > 0) : []);
const withWeights = (f: TokenFile | null): TokenRecord[] => (f ? f.records.filter((r) => r.weights.length > 0) : []);

interface Sparsity {
  readonly step: number;
  readonly responses: number;
  readonly tokens: number;
  readonly meanS: number;
  readonly top10Share: number;
  readonly gini: number;
}

function sparsity(f: TokenFile | null): Sparsity | null {
  const recs = withDep(f);
  if (!f || !recs.length) return null;
  const h = dependencyHistogram(recs.flatMap((r) => r.dep));
  return { step: f.step, responses: recs.length, tokens: h.tokens, meanS: h.mean, top10Share: h.top10Share, gini: h.gini };
}

interface PerRunPg extends PgVarianceSummary {
  readonly run: string;
  readonly seed: number | null;
}

interface FolderClaims {
  readonly path: string;
  /** Arms compare evaluated without training (no run directory): base, base@T. */
  readonly evalOnlyArms: string[];
  readonly pgVariance: {
    readonly byArm: PgVarianceSummary[];
    /** geoMean(pgpo) / geoMean(dapo) over all their runs' steps. */
    readonly pgpoOverDapo: number;
    /** The same per seed index: pgpo-seed<k> against dapo-seed<k> (not the same batches after step 1). */
    readonly pgpoOverDapoBySeed: Array<{ seed: number; ratio: number }>;
    readonly perRun: PerRunPg[];
  };
  readonly sparsity: Array<{ arm: string; run: string; seed: number | null; first: Sparsity | null; latest: Sparsity | null }>;
  readonly byClass: Array<{ arm: string; runs: number; pooled: ClassStats[]; perRun: ClassStats[][] }>;
  readonly weightsByClass: Array<{ arm: string; runs: number; pooled: ClassWeightStats[]; perRun: ClassWeightStats[][] }>;
  /** S (runs with dep) and weights (runs with weights) by role; null where no run of the arm logs them. */
  readonly byRole: Array<{
    arm: string;
    runs: number;
    dependency: RoleStats[] | null;
    weights: RoleWeightStats[] | null;
    perRun: Array<{ dependency: RoleStats[] | null; weights: RoleWeightStats[] | null }>;
  }>;
  readonly notes: string[];
}

function measure(dir: string): FolderClaims {
  const compare = loadCompare(dir);
  const runs = compare.runs.map(armOf).map(readTokens);
  if (!runs.length) throw new CliError(`${dir}: no run directories under ${join(dir, 'runs')} (only evaluations?)`);
  const arms = [...new Set(runs.map((r) => r.arm))];
  const trained = new Set(arms);
  const evalOnlyArms = [...new Set(compare.evals.map((e) => e.arm))].filter((a) => !trained.has(a));
  const notes: string[] = [];

  // 1. policy-gradient variance
  const pgRuns = runs.map((r): PgVarianceRun => ({ algo: r.arm, pgVar: metricSeries(r.run.metrics, 'pg_var'), pgVarUniform: metricSeries(r.run.metrics, 'pg_var_uniform') }));
  const byArm = pgVarianceByAlgo(pgRuns);
  const perRun = runs.map((r, i) => ({ run: r.run.name, seed: r.seed, ...pgVarianceByAlgo([pgRuns[i]])[0] }));
  const seedsOf = (arm: string) => new Map(perRun.filter((p) => p.algo === arm && p.seed !== null).map((p) => [p.seed!, p.geoMean]));
  const pgpoSeeds = seedsOf('pgpo');
  const dapoSeeds = seedsOf('dapo');
  const pgpoOverDapoBySeed = [...pgpoSeeds.keys()]
    .filter((s) => dapoSeeds.has(s))
    .sort((a, b) => a - b)
    .map((seed) => ({ seed, ratio: pgpoSeeds.get(seed)! / dapoSeeds.get(seed)! }));
  const noPg = byArm.filter((s) => s.steps === 0).map((s) => s.algo);
  if (noPg.length) notes.push(`no pg_var in metrics.jsonl of: ${noPg.join(', ')} (experiment.pg_var_freq was 0?)`);

  // 2.-4. token analyses
  const noTokens = arms.filter((a) => runs.filter((r) => r.arm === a).every((r) => !r.latest));
  if (noTokens.length) notes.push(`no tokens/ files (the trainer writes them only for algorithms that measure S): ${noTokens.join(', ')}`);
  const depArms = arms.filter((a) => runs.some((r) => r.arm === a && withDep(r.latest).length));
  const noDep = arms.filter((a) => !noTokens.includes(a) && !depArms.includes(a));
  if (noDep.length) notes.push(`tokens/ files without dep (S): ${noDep.join(', ')}`);
  const sparsityRows = runs.filter((r) => depArms.includes(r.arm)).map((r) => ({ arm: r.arm, run: r.run.name, seed: r.seed, first: sparsity(r.first), latest: sparsity(r.latest) }));
  const byClass = depArms.map((arm) => {
    const mine = runs.filter((r) => r.arm === arm && withDep(r.latest).length);
    return { arm, runs: mine.length, pooled: dependencyByClass(mine.flatMap((r) => withDep(r.latest))), perRun: mine.map((r) => dependencyByClass(withDep(r.latest))) };
  });
  const weightArms = arms.filter((a) => runs.some((r) => r.arm === a && withWeights(r.latest).length));
  const weightsByClass = weightArms.map((arm) => {
    const mine = runs.filter((r) => r.arm === arm && withWeights(r.latest).length);
    return { arm, runs: mine.length, pooled: weightByClass(mine.flatMap((r) => withWeights(r.latest))), perRun: mine.map((r) => weightByClass(withWeights(r.latest))) };
  });
  const roleOf = (recs: TokenRecord[]) => ({
    dependency: recs.some((r) => r.dep.length) ? dependencyByRole(recs.filter((r) => r.dep.length)) : null,
    weights: recs.some((r) => r.weights.length) ? weightByRole(recs) : null,
  });
  const byRole = arms
    .filter((a) => depArms.includes(a) || weightArms.includes(a))
    .map((arm) => {
      const mine = runs.filter((r) => r.arm === arm && (withDep(r.latest).length || withWeights(r.latest).length));
      return { arm, runs: mine.length, ...roleOf(mine.flatMap((r) => r.latest!.records)), perRun: mine.map((r) => roleOf(r.latest!.records)) };
    });
  const partial = runs.filter((r) => depArms.includes(r.arm) && !withDep(r.latest).length).map((r) => r.run.name);
  if (partial.length) notes.push(`runs of a dependency arm without token records: ${partial.join(', ')}`);
  return {
    path: dir,
    evalOnlyArms,
    pgVariance: { byArm, pgpoOverDapo: pgVarianceRatio(byArm), pgpoOverDapoBySeed, perRun },
    sparsity: sparsityRows,
    byClass,
    weightsByClass,
    byRole,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// printing

function printFolder(c: FolderClaims): void {
  const out: string[] = [`## ${c.path}`, ''];
  const pg = c.pgVariance;
  out.push('### 1. Policy-gradient variance (pg_var)', '');
  out.push(
    table(
      ['arm', 'runs', 'steps measured', 'geo-mean pg_var', 'median pg_var', 'pg_var / pg_var_uniform (paired, geo-mean)', 'paired steps'],
      pg.byArm.map((s) => [s.algo, String(s.runs), String(s.steps), sig(s.geoMean), sig(s.median), fix(s.pairedRatio), String(s.pairedSteps)]),
    ),
  );
  out.push('');
  const bySeed = pg.pgpoOverDapoBySeed.map((s) => `seed ${s.seed}: ${fix(s.ratio)}`).join(', ');
  out.push(`PGPO / DAPO ratio of geometric means: **${fix(pg.pgpoOverDapo)}**${bySeed ? ` (per seed index, different batches after step 1: ${bySeed})` : ''}.`, '');
  out.push(
    table(
      ['run', 'steps', 'geo-mean pg_var', 'pg_var / pg_var_uniform (paired)', 'paired steps'],
      pg.perRun.map((p) => [p.run, String(p.steps), sig(p.geoMean), p.pairedSteps ? fix(p.pairedRatio) : dash, String(p.pairedSteps)]),
    ),
  );
  out.push('');

  out.push("### 2. Sparsity of S (each run's first and latest tokens/ file; mean over seeds [min–max])", '');
  const sparseRows: string[][] = [];
  for (const arm of [...new Set(c.sparsity.map((s) => s.arm))]) {
    const mine = c.sparsity.filter((s) => s.arm === arm);
    for (const which of ['first', 'latest'] as const) {
      const xs = mine.map((s) => s[which]).filter((s): s is Sparsity => s !== null);
      if (!xs.length) continue;
      const steps = [...new Set(xs.map((s) => s.step))];
      sparseRows.push([
        arm,
        `${which} (step ${steps.length === 1 ? steps[0] : `${Math.min(...steps)}–${Math.max(...steps)}`})`,
        String(xs.length),
        String(xs.reduce((a, s) => a + s.tokens, 0)),
        spread(
          xs.map((s) => s.meanS),
          (x) => fix(x),
        ),
        spread(
          xs.map((s) => s.top10Share),
          pct,
        ),
        spread(
          xs.map((s) => s.gini),
          (x) => fix(x),
        ),
      ]);
    }
  }
  out.push(sparseRows.length ? table(['arm', 'tokens file', 'seeds', 'tokens', 'mean S', 'top-10% share of S', 'Gini of S'], sparseRows) : 'No run logs per-token S.', '');
  out.push('Uniform S gives a top-10% share of 10% and a Gini of 0.', '');

  out.push("### 3. S by token class (pooled over the arm's latest tokens/ files)", '');
  if (!c.byClass.length) out.push('No run logs per-token S.', '');
  for (const a of c.byClass) {
    out.push(`**${a.arm}** (${a.runs} run${a.runs === 1 ? '' : 's'})`, '');
    out.push(
      table(
        ['class', 'tokens', 'mean S', 'mean S per seed (min–max)', 'mean log(1+S)', 'share of S'],
        a.pooled.map((s, i) => [
          TOKEN_CLASS_LABELS[s.cls],
          String(s.tokens),
          fix(s.meanS),
          range(
            a.perRun.map((r) => r[i].meanS),
            (x) => fix(x),
          ),
          fix(s.meanLog1pS),
          pct(s.shareOfS),
        ]),
      ),
      '',
    );
  }

  out.push("### 4. Where PGPO's weights land (latest tokens/ files; w > 1 is boosted)", '');
  if (!c.weightsByClass.length) out.push('No run logs per-token weights.', '');
  for (const a of c.weightsByClass) {
    out.push(`**${a.arm}** (${a.runs} run${a.runs === 1 ? '' : 's'})`, '');
    const rows = a.pooled.map((s, i) => [
      TOKEN_CLASS_LABELS[s.cls],
      String(s.tokens),
      fix(s.meanWeight),
      range(
        a.perRun.map((r) => r[i].meanWeight),
        (x) => fix(x),
      ),
      pct(s.boosted),
      range(
        a.perRun.map((r) => r[i].boosted),
        pct,
      ),
      pct(s.shareOfWeight),
    ]);
    const n = a.pooled.reduce((acc, s) => acc + s.tokens, 0);
    const sumOf = (f: (s: ClassWeightStats) => number) => a.pooled.reduce((acc, s) => acc + (s.tokens ? s.tokens * f(s) : 0), 0) / n;
    rows.push(['all tokens', String(n), fix(sumOf((s) => s.meanWeight)), '', pct(sumOf((s) => s.boosted)), '', n ? '100.0%' : dash]);
    out.push(table(['class', 'tokens', 'mean weight', 'mean weight per seed (min–max)', 'boosted (w > 1)', 'boosted per seed (min–max)', 'share of weight'], rows), '');
  }

  out.push('### 5. S and weights by role in the layout (latest tokens/ files; value name `x=`, written value `66`, expression `66+24=`, result `90`)', '');
  if (!c.byRole.length) out.push('No run logs per-token S or weights.', '');
  for (const a of c.byRole) {
    out.push(`**${a.arm}** (${a.runs} run${a.runs === 1 ? '' : 's'})`, '');
    const dep = a.dependency;
    const w = a.weights;
    const perS = (i: number) => a.perRun.map((r) => r.dependency?.[i].meanS ?? NaN);
    const perW = (i: number, f: (s: RoleWeightStats) => number) => a.perRun.map((r) => (r.weights ? f(r.weights[i]) : NaN));
    const base: ReadonlyArray<{ row: RoleStats['row']; tokens: number }> = dep ?? w ?? [];
    const rows = base.map((s, i) => [
      ROLE_ROW_LABELS[s.row],
      String(s.tokens),
      fix(dep?.[i].meanS),
      range(perS(i), (x) => fix(x)),
      pct(dep?.[i].shareOfS),
      fix(w?.[i].meanWeight),
      range(
        perW(i, (x) => x.meanWeight),
        (x) => fix(x),
      ),
      pct(w?.[i].boosted),
      range(
        perW(i, (x) => x.boosted),
        pct,
      ),
      pct(w?.[i].shareOfWeight),
    ]);
    // all tokens: the five roles (the correct/misread rows split the written values)
    const roles = <T extends { row: string; tokens: number }>(xs: readonly T[] | null) => (xs ?? []).filter((s) => (TOKEN_ROLES as readonly string[]).includes(s.row));
    const n = roles(base).reduce((acc, s) => acc + s.tokens, 0);
    const avg = <T extends { row: string; tokens: number }>(xs: T[] | null, f: (s: T) => number) => {
      const m = roles(xs).reduce((acc, s) => acc + s.tokens, 0);
      return m ? roles(xs).reduce((acc, s) => acc + (s.tokens ? s.tokens * f(s) : 0), 0) / m : NaN;
    };
    rows.push(['all tokens', String(n), fix(avg(dep, (s) => s.meanS)), '', dep ? '100.0%' : dash, fix(avg(w, (s) => s.meanWeight)), '', pct(avg(w, (s) => s.boosted)), '', w ? '100.0%' : dash]);
    out.push(
      table(
        ['role', 'tokens', 'mean S', 'mean S per seed (min–max)', 'share of S', 'mean weight', 'mean weight per seed (min–max)', 'boosted (w > 1)', 'boosted per seed (min–max)', 'share of weight'],
        rows,
      ),
      '',
    );
  }
  out.push('A written value is correct when it equals a value the image or the problem text shows (under any name), misread otherwise; the two rows split the written values.', '');

  const notes = [...(c.evalOnlyArms.length ? [`evaluated only, not trained (no run directory): ${c.evalOnlyArms.join(', ')}`] : []), ...c.notes];
  if (notes.length) out.push('Notes:', '', ...notes.map((n) => `- ${n}`), '');
  console.log(out.join('\n'));
}

runScript('claims', () => {
  const args = parseArgs(process.argv.slice(2), { json: { type: 'string', description: 'also write the numbers as JSON to this file' } }, 'claims');
  const dirs = args.positionals;
  if (dirs.length === 0 || args.overrides.length > 0) throw new CliError(USAGE);
  for (const d of dirs) {
    if (!existsSync(d)) throw new CliError(`${d}: no such directory`);
    if (!existsSync(join(d, 'compare.json'))) throw new CliError(`${d}: no compare.json (not a pgpo compare folder, or one that has not finished)`);
  }
  const jsonOut = stringFlag(args, 'json');
  const claims = dirs.map(measure);
  claims.forEach(printFolder);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ folders: claims }, null, 2) + '\n');
});
