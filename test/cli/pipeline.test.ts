/**
 * The main job end to end on the tiny preset: data, warm start, base eval, RL, trained eval, the
 * table; then a second run reuses every stage instead of redoing it; then other pipelines adopt
 * the finished warm start as a shipped base model, or refuse it when their settings differ; a
 * folder made with other settings is refused, and evaluations of an older checkpoint are redone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pgpo.js');

test('pgpo pipeline runs every stage, prints base vs trained, and resumes by reusing finished stages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-pipeline-'));
  const args = [BIN, 'pipeline', '--preset', 'tiny', '--out', join(dir, 'p'), `data.suite.dir=${join(dir, 'suite')}`];
  const env = { ...process.env, CI: 'true' };
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  for (const stage of ['1/5 data', '2/5 warm start', '3/5 evaluating the base', '4/5 RL', '5/5 evaluating the trained']) assert.ok(r.stderr.includes(stage), `stage ${stage}`);
  assert.match(r.stdout, /avg@2 accuracy on 8 test problems/);
  assert.match(r.stdout, /overall \(avg@2\)/);
  const gainLine =
    /gain: [+-]\d+\.\d points overall \(.*95% interval [+-]\d+\.\d to [+-]\d+\.\d, paired over \d+ problems( \(\d+ rows\))?\) — (a measured gain|a measured loss|within the evaluation noise)/;
  assert.match(r.stdout, gainLine);
  assert.ok(existsSync(join(dir, 'suite', 'train.parquet')) && existsSync(join(dir, 'suite', 'test.parquet')));
  assert.equal(readFileSync(join(dir, 'p', 'summary.txt'), 'utf8').trim(), r.stdout.trim());

  // pgpo eval --against: evaluating the trained run again (same seed) prints the pipeline's gain line
  const e = spawnSync(
    process.execPath,
    [BIN, 'eval', '--ckpt', join(dir, 'p', 'pgpo'), '--preset', 'tiny', '--out', join(dir, 'again.json'), '--against', join(dir, 'p', 'base', 'eval.json'), `data.suite.dir=${join(dir, 'suite')}`],
    { encoding: 'utf8', env },
  );
  assert.equal(e.status, 0, e.stderr);
  assert.equal(e.stdout.match(gainLine)?.[0], r.stdout.match(gainLine)?.[0]);
  assert.match(e.stdout, /\(against .*base\/eval\.json\)\n$/);

  const again = spawnSync(process.execPath, args, { encoding: 'utf8', env });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /warm start: reusing/);
  assert.match(again.stderr, /RL: reusing/);
  assert.match(again.stderr, /eval base: reusing/);
  // evaluations name the problem behind each row, so the gain's interval can count problems
  const rows = (JSON.parse(readFileSync(join(dir, 'p', 'base', 'eval.json'), 'utf8')) as { problems: Array<{ problem_key?: string }> }).problems;
  assert.ok(rows.length > 0 && rows.every((p) => typeof p.problem_key === 'string' && p.problem_key.length > 0));
  // a reused evaluation that is no longer an eval.json stops the pipeline with its name, not a stack trace
  writeFileSync(join(dir, 'p', 'pgpo', 'eval.json'), '{"overall":');
  const broken = spawnSync(process.execPath, args, { encoding: 'utf8', env });
  assert.equal(broken.status, 2, broken.stderr);
  assert.match(broken.stderr, /pgpo pipeline: .*pgpo\/eval\.json: not valid JSON .*delete it and re-run/);
  rmSync(join(dir, 'p', 'pgpo', 'eval.json'));

  // a finished warm start elsewhere (as the shipped models/small-base) is adopted when its settings match, and not otherwise
  const adopt = [BIN, 'pipeline', '--preset', 'tiny', '--out', join(dir, 'q'), '--base-from', join(dir, 'p', 'base'), `data.suite.dir=${join(dir, 'suite')}`];
  const q = spawnSync(process.execPath, adopt, { encoding: 'utf8', env });
  assert.equal(q.status, 0, q.stderr);
  assert.match(q.stderr, /2\/5 warm start: adopting the base model .*p\/base \(4 SFT steps/);
  assert.doesNotMatch(q.stderr, /SFT: fresh/);
  assert.ok(existsSync(join(dir, 'q', 'base', 'checkpoints', 'latest.json')));
  // the same --base-from again: the folder's base is that one, so it is reused
  const q2 = spawnSync(process.execPath, adopt, { encoding: 'utf8', env });
  assert.equal(q2.status, 0, q2.stderr);
  assert.match(q2.stderr, /2\/5 warm start: reusing/);
  // a base named by --base-from that does not fit stops the pipeline instead of training another in its place
  const other = spawnSync(process.execPath, [...adopt.slice(0, 5), join(dir, 'r'), ...adopt.slice(6), 'sft.total_steps=3'], { encoding: 'utf8', env });
  assert.equal(other.status, 2, other.stderr);
  assert.match(other.stderr, /pgpo pipeline: --base-from .*p\/base: it was trained with sft.total_steps = 4, not 3; drop --base-from/);
  assert.doesNotMatch(other.stderr, /SFT: fresh/);

  // the same folder with another suite stops before any work instead of reporting the old runs as this config's
  const stale = spawnSync(process.execPath, [...args, 'data.suite.difficulty=2'], { encoding: 'utf8', env });
  assert.equal(stale.status, 2, stale.stderr);
  assert.match(stale.stderr, /pgpo pipeline: .*p\/base\/config\.yaml: it was trained with data\.suite\.difficulty = 1, not 2; give another --out/);
  // ... and so does another RL setting: the finished RL run is not this config's
  const lr = spawnSync(process.execPath, [...args, 'worker.actor.optim.lr=0.001'], { encoding: 'utf8', env });
  assert.equal(lr.status, 2, lr.stderr);
  assert.match(lr.stderr, /pgpo pipeline: .*p\/pgpo\/config\.yaml: it was trained with worker\.actor\.optim\.lr = 0\.00003, not 0\.001; give another --out/);

  // more RL steps continue the run, and its old evaluation (of an earlier checkpoint) is not reused
  assert.equal(spawnSync(process.execPath, args, { encoding: 'utf8', env }).status, 0); // evaluates step 2 again (deleted above)
  const longer = spawnSync(process.execPath, [...args, 'trainer.total_steps=3'], { encoding: 'utf8', env });
  assert.equal(longer.status, 0, longer.stderr);
  assert.match(longer.stderr, /4\/5 RL: pgpo for 3 steps/);
  assert.match(longer.stderr, /eval base: reusing/);
  assert.match(longer.stderr, /5\/5 eval trained: not reusing .*eval\.json \(it evaluated step-000002, the run's latest checkpoint is step-000003\)/);
  assert.match(JSON.parse(readFileSync(join(dir, 'p', 'pgpo', 'eval.json'), 'utf8')).ckpt, /step-000003$/);
  // another number of test rows is evaluated again too (both policies)
  const fewer = spawnSync(process.execPath, [...args, 'trainer.total_steps=3', 'eval.n=6'], { encoding: 'utf8', env });
  assert.equal(fewer.status, 0, fewer.stderr);
  assert.match(fewer.stderr, /3\/5 eval base: not reusing .*\(it was made with n = 8, this config asks 6\)/);
  assert.match(fewer.stdout, /avg@2 accuracy on 6 test problems/);
  assert.equal(spawnSync(process.execPath, [...args, 'trainer.total_steps=3'], { encoding: 'utf8', env }).status, 0); // back to 8 rows

  // an RL run stopped before its first checkpoint (a config, no checkpoint) starts over instead of failing on every re-run
  cpSync(join(dir, 'p', 'base'), join(dir, 's', 'base'), { recursive: true });
  mkdirSync(join(dir, 's', 'pgpo'));
  cpSync(join(dir, 'p', 'pgpo', 'config.yaml'), join(dir, 's', 'pgpo', 'config.yaml'));
  const unsaved = spawnSync(process.execPath, [...args.slice(0, 5), join(dir, 's'), ...args.slice(6)], { encoding: 'utf8', env });
  assert.equal(unsaved.status, 0, unsaved.stderr);
  assert.match(unsaved.stderr, /warm start: reusing/);
  assert.ok(existsSync(join(dir, 's', 'pgpo', 'checkpoints', 'latest.json')));

  // fewer steps than the run holds, or another warm start, are refused too
  const shorter = spawnSync(process.execPath, [...args, 'trainer.total_steps=1'], { encoding: 'utf8', env });
  assert.equal(shorter.status, 2, shorter.stderr);
  assert.match(shorter.stderr, /p\/pgpo: it holds a checkpoint at step 3, past trainer\.total_steps = 1; give another --out/);
  const sft = spawnSync(process.execPath, [...args, 'sft.lr=0.01'], { encoding: 'utf8', env });
  assert.equal(sft.status, 2, sft.stderr);
  assert.match(sft.stderr, /p\/base\/config\.yaml: it was trained with sft\.lr = /);
  // another evaluation temperature re-evaluates both policies
  const hot = spawnSync(process.execPath, [...args, 'trainer.total_steps=3', 'eval.temperature=0.5'], { encoding: 'utf8', env });
  assert.equal(hot.status, 0, hot.stderr);
  assert.match(hot.stderr, /3\/5 eval base: not reusing .*\(it was made with temperature = 1, this config asks 0\.5\)/);
  assert.match(hot.stdout, /temperature 0\.5/);

  // eval.seeds = 2: each policy is evaluated again under sampling seed trainer.seed + 1, and the table and gain pool both
  const pooledArgs = [...args, 'trainer.total_steps=3', 'eval.seeds=2'];
  const pooled = spawnSync(process.execPath, pooledArgs, { encoding: 'utf8', env });
  assert.equal(pooled.status, 0, pooled.stderr);
  assert.match(pooled.stderr, /3\/5 evaluating the base policy \(avg@2, 8 test problems, sampling seed 2\)/);
  assert.match(pooled.stderr, /5\/5 evaluating the trained policy \(avg@2, 8 test problems, sampling seed 2\)/);
  assert.match(pooled.stdout, /^\navg@4 accuracy \(avg@2 under sampling seeds 1, 2, pooled\) on 8 test problems \(temperature 1\):/);
  assert.match(pooled.stdout, gainLine);
  type Rows = { seed: number; problems: Array<{ id: string; correct: number; k: number }> };
  const read = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Rows;
  // the pooled overall is each row's correct samples over its 4, averaged over rows (by hand, not by poolReports)
  const checkPooled = (stdout: string) => {
    for (const who of ['base', 'pgpo']) {
      const [one, two] = [read(join(dir, 'p', who, 'eval.json')), read(join(dir, 'p', who, 'eval-seed2.json'))];
      assert.deepEqual([one.seed, two.seed], [1, 2]);
      const byId = new Map(two.problems.map((p) => [p.id, p]));
      const acc = one.problems.reduce((a, p) => a + (p.correct + byId.get(p.id)!.correct) / (p.k + byId.get(p.id)!.k), 0) / one.problems.length;
      const col = who === 'base' ? 1 : 2;
      const shown = stdout
        .split('\n')
        .find((l) => l.startsWith('overall (avg@4)'))!
        .trim()
        .split(/\s+/)[col + 1];
      assert.equal(shown, `${(100 * acc).toFixed(1)}%`, `${who}: pooled overall`);
    }
  };
  checkPooled(pooled.stdout);
  // the learned logit scale is reported as the temperature it amounts to, from the run's last step
  const lastStep = JSON.parse(
    readFileSync(join(dir, 'p', 'pgpo', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .at(-1)!,
  );
  assert.equal(typeof lastStep.logit_scale, 'number');
  const scaleLine = pooled.stdout.match(
    /^logit scale \(the policy's learned inverse temperature, 1 in the base\): ([\d.]+) after step 3, so at temperature 1 the trained policy samples as its weights would at ([\d.]+)$/m,
  );
  assert.ok(scaleLine, pooled.stdout);
  assert.equal(scaleLine[1], lastStep.logit_scale.toFixed(3));
  assert.equal(scaleLine[2], (1 / lastStep.logit_scale).toFixed(3));
  // run again: all four evaluations are reused
  const reused = spawnSync(process.execPath, pooledArgs, { encoding: 'utf8', env });
  assert.equal(reused.status, 0, reused.stderr);
  assert.match(reused.stderr, /3\/5 eval base: reusing .*base\/eval-seed2\.json/);
  assert.match(reused.stderr, /5\/5 eval trained: reusing .*pgpo\/eval-seed2\.json/);
  assert.doesNotMatch(reused.stderr, /evaluating the/);
  assert.equal(reused.stdout, pooled.stdout.replace(/measured in .*/, reused.stdout.match(/measured in .*/)![0]));

  // the table really pools: the tiny policy scores the same under both seeds, so give the base's
  // seed-2 file other counts (the run reuses it: its settings still match) and check the table follows
  const seed2 = join(dir, 'p', 'base', 'eval-seed2.json');
  const edited = read(seed2);
  edited.problems.forEach((p, i) => (p.correct = i % (p.k + 1)));
  writeFileSync(seed2, JSON.stringify(edited));
  const repooled = spawnSync(process.execPath, pooledArgs, { encoding: 'utf8', env });
  assert.equal(repooled.status, 0, repooled.stderr);
  assert.doesNotMatch(repooled.stderr, /evaluating the/);
  assert.notEqual(repooled.stdout.match(/^overall.*$/m)![0], pooled.stdout.match(/^overall.*$/m)![0]);
  checkPooled(repooled.stdout);
});
