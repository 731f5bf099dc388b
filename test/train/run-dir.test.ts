/**
 * A run folder owns itself (on the toy policy: fast): its kind, its lock, what --resume may
 * change, a run stopped before its first checkpoint, a corrupt latest checkpoint, symlinks.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeRgbImage } from '../../src/core/image.ts';
import { resolveConfig, type TrainConfig } from '../../src/train/config.ts';
import type { Problem, RewardFn } from '../../src/core/problem.ts';
import { RunDir, RunDirError, runMetrics } from '../../src/train/run-dir.ts';
import { sft } from '../../src/train/sft.ts';
import { train } from '../../src/train/trainer.ts';
import { toyFactory } from './toy-policy.ts';

const problems: Problem[] = Array.from({ length: 12 }, (_, i) => {
  const img = makeRgbImage(8, 8);
  img.data.fill((i * 61) % 256);
  return { id: `p${i}`, problem: `<image>q${i}`, answer: String(i % 3), solution: 'ab', image: img, family: 'f', variant: 'v' };
});
const reward: RewardFn = (text, answer) => {
  const accuracy = text.length % 2 === Number(answer) % 2 ? 1 : 0;
  return { accuracy, format: 0, reward: accuracy };
};
const rl = (overrides: Array<[string, string]> = []): TrainConfig =>
  resolveConfig({
    preset: 'tiny',
    algo: 'dapo',
    overrides: [['worker.actor.optim.lr', '0.05'], ['data.rollout_batch_size', '4'], ['algorithm.max_filter_rounds', '1'], ['trainer.log_rollouts_freq', '0'], ...overrides],
  });
const sftConfig = resolveConfig({
  preset: 'tiny',
  overrides: [
    ['sft.total_steps', '2'],
    ['sft.reading_drills', '0'],
    ['sft.arithmetic_drills', '0'],
  ],
});
const quiet = { log: () => {}, progressStream: { write: () => true } };
const tmp = () => mkdtempSync(join(tmpdir(), 'pgpo-rundir-'));
const runRl = (out: string, config: TrainConfig, extra: Partial<Parameters<typeof train>[0]> = {}) => train({ config, out, factory: toyFactory, problems, reward, ...quiet, ...extra });
/** A pid no process has: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
const rejectsWith = (p: Promise<unknown>, re: RegExp, exitCode = 2) => assert.rejects(p, (e: unknown) => e instanceof RunDirError && re.test(e.message) && e.exitCode === exitCode);

test('a run records its kind (and engine); --resume of the other kind is refused, naming both and the command', async () => {
  const s = tmp();
  await sft({ config: sftConfig, out: s, factory: toyFactory, problems, ...quiet });
  assert.deepEqual(JSON.parse(readFileSync(join(s, 'run.json'), 'utf8')), { kind: 'sft', engine: 'toy engine 1' });
  const metrics = readFileSync(join(s, 'metrics.jsonl'), 'utf8');
  await rejectsWith(runRl(s, rl([['trainer.total_steps', '4']]), { resume: true }), /holds an sft run .*run\.json.*not an rl one: continue it with `pgpo sft --resume /);
  assert.equal(readFileSync(join(s, 'metrics.jsonl'), 'utf8'), metrics, 'the SFT run was touched');

  const r = tmp();
  await runRl(r, rl());
  await rejectsWith(sft({ config: sftConfig, out: r, factory: toyFactory, problems, resume: true, ...quiet }), /holds an rl run .*not an sft one: continue it with `pgpo train --resume /);
  // a run from before run.json: its checkpoints say what it is
  rmSync(join(r, 'run.json'));
  await rejectsWith(sft({ config: sftConfig, out: r, factory: toyFactory, problems, resume: true, ...quiet }), /holds an rl run \(its checkpoints\)/);
});

test('a live lock refuses a second process (exit code 1, naming it); a dead one is taken over with a note', async () => {
  const out = tmp();
  const lockPath = join(out, 'lock');
  // this process's parent is alive: its lock stands
  writeFileSync(lockPath, JSON.stringify({ pid: process.ppid, host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
  await rejectsWith(runRl(out, rl()), new RegExp(`is in use by process ${process.ppid} on .*delete ${lockPath}`), 1);
  assert.ok(!existsSync(join(out, 'config.yaml')), 'the refused run wrote its config');
  // a process that has exited holds nothing
  const dead = deadPid();
  writeFileSync(lockPath, JSON.stringify({ pid: dead, host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
  const notes: string[] = [];
  await runRl(out, rl(), { log: (l: string) => notes.push(l) });
  assert.ok(
    notes.some((l) => l.includes(`took over ${lockPath} from process ${dead}, which no longer runs`)),
    notes.join('\n'),
  );
  assert.ok(!existsSync(lockPath), 'the lock is released when the run ends');
  // while a run holds the lock, another in the same folder is refused
  const rd = new RunDir(out);
  const held = rd.lock();
  await rejectsWith(runRl(out, rl([['trainer.total_steps', '3']]), { resume: true }), /is in use by process/, 1);
  held.release();
});

test('a run stopped before its first checkpoint resumes from step 0 and equals an uninterrupted run', async () => {
  const cfg = rl([
    ['trainer.total_steps', '3'],
    ['trainer.save_freq', '10'],
  ]);
  const a = tmp();
  await runRl(a, cfg);
  const b = tmp();
  // a crash in step 3 (before any checkpoint); then a kill -9 would leave its lock behind
  const crashing = {
    ...toyFactory,
    create: async (p: 'tiny' | 'small', seed: number) => {
      const policy = await toyFactory.create(p, seed);
      const sample = policy.sample.bind(policy);
      policy.sample = (...args) => (new RunDir(b).readMetrics().length >= 2 ? Promise.reject(new Error('killed')) : sample(...args));
      return policy;
    },
  };
  await assert.rejects(runRl(b, cfg, { factory: crashing }), /killed/);
  assert.equal(new RunDir(b).latest(), null);
  assert.equal(new RunDir(b).readMetrics().length, 2);
  writeFileSync(join(b, 'lock'), JSON.stringify({ pid: deadPid(), host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
  // starting it again with --out is refused with the way out
  await rejectsWith(runRl(b, cfg), /stopped before its first checkpoint: pass --resume .* to start it again from step 0/);
  const logs: string[] = [];
  await runRl(b, cfg, { resume: true, log: (l: string) => logs.push(l) });
  assert.ok(
    logs.some((l) => /resuming .* from step 0 .*stopped before its first checkpoint/.test(l)),
    logs.join('\n'),
  );
  assert.deepEqual(new RunDir(b).readMetrics().map(runMetrics), new RunDir(a).readMetrics().map(runMetrics));
  const w = (d: string) => readFileSync(join(d, 'checkpoints', 'step-000003', 'policy', 'toy.json'), 'utf8');
  assert.equal(w(b), w(a));
});

test('--resume refuses a setting that changes the run, naming the key and both values; total_steps is recorded', async () => {
  const out = tmp();
  const base = tmp();
  await runRl(out, rl());
  const before = readFileSync(join(out, 'config.yaml'), 'utf8');
  await rejectsWith(
    runRl(out, rl([['worker.actor.init_checkpoint', base]]), { resume: true }),
    new RegExp(`worker\\.actor\\.init_checkpoint is null in .*config\\.yaml, "${base}" here; a resumed run keeps its settings but for trainer\\.total_steps`),
  );
  await rejectsWith(runRl(out, resolveConfig({ base: rl() as never, algo: 'pgpo' }), { resume: true }), /algorithm\.name is "dapo" in .*, "pgpo" here/);
  assert.equal(readFileSync(join(out, 'config.yaml'), 'utf8'), before, 'a refused resume changed config.yaml');
  const logs: string[] = [];
  await runRl(out, rl([['trainer.total_steps', '3']]), { resume: true, log: (l: string) => logs.push(l) });
  assert.ok(logs.includes(`--resume: trainer.total_steps 2 -> 3 (recorded in ${join(out, 'config.yaml')})`), logs.join('\n'));
  assert.match(readFileSync(join(out, 'config.yaml'), 'utf8'), /total_steps: 3/);
  assert.equal(new RunDir(out).readMetrics().length, 3);
});

test('a corrupt latest checkpoint names the newest intact one and the command that resumes from it', async () => {
  const out = tmp();
  await runRl(
    out,
    rl([
      ['trainer.total_steps', '3'],
      ['trainer.save_limit', '3'],
    ]),
  );
  writeFileSync(join(out, 'checkpoints', 'step-000003', 'trainer.json'), '{"step": 3, "cur');
  const cfg = rl([
    ['trainer.total_steps', '4'],
    ['trainer.save_limit', '3'],
  ]);
  let message = '';
  await assert.rejects(runRl(out, cfg, { resume: true }), (e: Error) => ((message = e.message), e instanceof RunDirError));
  assert.match(message, /--resume .*: .*step-000003\/trainer\.json: not valid JSON.*; the newest intact checkpoint is step-000002: resume from it with {2}rm -r .*step-000003 && pgpo train --resume /);
  assert.equal(new RunDir(out).readMetrics().length, 3, 'metrics untouched by a refused resume');
  rmSync(join(out, 'checkpoints', 'step-000003'), { recursive: true });
  await runRl(out, cfg, { resume: true });
  assert.deepEqual(
    new RunDir(out).readMetrics().map((m) => m.step),
    [1, 2, 3, 4],
  );
});

test('a run entry that is a symlink is refused: metrics are never appended through it', async () => {
  const out = tmp();
  await runRl(out, rl());
  const elsewhere = join(tmp(), 'victim.jsonl');
  writeFileSync(elsewhere, 'keep\n');
  rmSync(join(out, 'metrics.jsonl'));
  symlinkSync(elsewhere, join(out, 'metrics.jsonl'));
  await rejectsWith(runRl(out, rl([['trainer.total_steps', '3']]), { resume: true }), /metrics\.jsonl is a symbolic link; a run writes only inside its own folder/);
  assert.equal(readFileSync(elsewhere, 'utf8'), 'keep\n');
});

test('a fresh run in a folder left with only a metrics.jsonl (its config deleted) starts its own metrics', async () => {
  const out = tmp();
  writeFileSync(join(out, 'metrics.jsonl'), JSON.stringify({ step: 1, reward: 99 }) + '\n');
  await runRl(out, rl());
  assert.deepEqual(
    new RunDir(out).readMetrics().map((m) => [m.step, m.reward === 99]),
    [
      [1, false],
      [2, false],
    ],
  );
});
