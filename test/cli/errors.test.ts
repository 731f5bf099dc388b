// The CLI's one error path, in child processes as a user meets it: one line, exit 2 for bad
// input and 1 for the machine's state, no stack trace; a closed pipe and /proc paths.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { failureOf } from '../../src/cli/errors.ts';
import { configToYaml, resolveConfig } from '../../src/train/config.ts';

const BIN = join(import.meta.dirname, '../../bin/pgpo.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
const tmp = () => mkdtempSync(join(tmpdir(), 'pgpo-errors-'));

/** One line on stderr, no stack frame in it. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /);
  return lines[0];
}

/** A run folder as `kind` leaves it before its first checkpoint: config.yaml and run.json. */
function fakeRun(kind: 'sft' | 'rl'): string {
  const dir = tmp();
  writeFileSync(join(dir, 'config.yaml'), configToYaml(resolveConfig({ preset: 'tiny', overrides: [['data.suite.dir', join(dir, 'suite')]] })));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ kind }) + '\n');
  return dir;
}

describe('pgpo: one line per failure', () => {
  it('--preset with --resume naming another preset than the run was made with is refused (exit 2, one line)', () => {
    const rl = fakeRun('rl'); // a tiny run
    for (const cmd of ['train', 'sft']) {
      const r = run([cmd, '--resume', rl, '--preset', 'small']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(oneLine(r.stderr), new RegExp(`^pgpo ${cmd}: --preset small does not match the run in .* \\(made with worker\\.actor\\.model=tiny\\); --resume keeps the sizes`));
    }
  });
  it('--resume of the other kind of run exits 2 naming both kinds and the command that continues it', () => {
    const sft = fakeRun('sft');
    const r = run(['train', '--resume', sft]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(oneLine(r.stderr), `pgpo train: ${sft} holds an sft run (${join(sft, 'run.json')}), not an rl one: continue it with \`pgpo sft --resume ${sft}\`, or give another folder`);
    // complete, past trainer.total_steps: not "raise trainer.total_steps", which would continue it as RL
    mkdirSync(join(sft, 'checkpoints', 'step-000004'), { recursive: true });
    writeFileSync(join(sft, 'checkpoints', 'latest.json'), JSON.stringify({ step: 4, dir: 'step-000004' }) + '\n');
    const done = run(['train', '--resume', sft]);
    assert.equal(done.status, 2, done.stderr);
    assert.match(oneLine(done.stderr), /holds an sft run/);
    const rl = fakeRun('rl');
    const s = run(['sft', '--resume', rl]);
    assert.equal(s.status, 2, s.stderr);
    assert.match(oneLine(s.stderr), /holds an rl run .*not an sft one: continue it with `pgpo train --resume /);
    // a comparison's --out is its own folder too (the base: any folder with a checkpoint)
    const c = run(['compare', '--preset', 'tiny', '--base', sft, '--out', rl]);
    assert.equal(c.status, 2, c.stderr);
    assert.match(oneLine(c.stderr), /^pgpo compare: .* holds an rl run .*not a compare one/);
  });

  it('a second process on a run folder exits 1 naming the one that holds it', () => {
    const dir = tmp();
    // this test's process is alive: its lock stands
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: process.pid, host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
    const r = run(['train', '--preset', 'tiny', '--out', dir, `data.suite.dir=${join(dir, 'suite')}`]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(oneLine(r.stderr), new RegExp(`^pgpo train: ${dir} is in use by process ${process.pid} on .*delete ${join(dir, 'lock')}$`));
  });

  it('an output path that is a directory, or a run folder that is a file, exits 2 naming it', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'r.jsonl'), JSON.stringify({ group: 'g', reward: 1, dependency: [0.1] }) + '\n');
    const r = run(['reshape', '--in', join(dir, 'r.jsonl'), '--out', dir]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(oneLine(r.stderr), `pgpo reshape: cannot write ${dir}: is a directory, not a file (EISDIR); give a file path`);
    const t = run(['train', '--preset', 'tiny', '--out', join(dir, 'r.jsonl'), `data.suite.dir=${join(dir, 'suite')}`]);
    assert.equal(t.status, 2, t.stderr);
    assert.match(oneLine(t.stderr), /r\.jsonl is a file, not a run folder/);
  });

  it('a missing data.train_files exits 2 naming it', () => {
    const dir = tmp();
    const r = run(['train', '--preset', 'tiny', '--out', join(dir, 'run'), `data.train_files=${join(dir, 'none.parquet')}`]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(oneLine(r.stderr), /none\.parquet: cannot read: ENOENT/);
  });

  it('`--out - | head` ends quietly when head stops reading; --out under /proc fails at once', () => {
    const dir = tmp();
    const lines = Array.from({ length: 6000 }, (_, i) => JSON.stringify({ group: `g${i >> 1}`, reward: i % 2, dependency: [0.1, 0.2, 0.3] })).join('\n') + '\n';
    writeFileSync(join(dir, 'r.jsonl'), lines);
    const piped = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" reshape --in r.jsonl --out - 2>err.txt | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"; cat err.txt`], {
      cwd: dir,
      encoding: 'utf8',
    });
    const [code, ...err] = piped.stdout.trimEnd().split('\n');
    assert.equal(code, '0', piped.stdout);
    assert.doesNotMatch(err.join('\n'), /EPIPE|\n\s+at /);
    const proc = run(['reshape', '--in', join(dir, 'r.jsonl'), '--out', '/proc/1/no-such-dir/out.jsonl']);
    assert.equal(proc.error, undefined, 'it hung');
    assert.equal(proc.status, 2, proc.stderr);
    assert.match(oneLine(proc.stderr), /^pgpo reshape: cannot mkdir \/proc\/1\/no-such-dir: no such file or directory \(ENOENT\)/);
  });
});

describe('failureOf', () => {
  const sys = (code: string, syscall: string, path: string) => Object.assign(new Error(`${code}: ${syscall} ${path}`), { code, syscall, path });
  it('words system errors with the path and what to do; the machine exits 1, the path given exits 2', () => {
    assert.deepEqual(failureOf(sys('ENOSPC', 'write', '/r/metrics.jsonl'), 'train'), {
      line: 'pgpo train: cannot write /r/metrics.jsonl: no space left on device (ENOSPC); free some space and re-run (runs resume from their last checkpoint)',
      exitCode: 1,
    });
    assert.equal(failureOf(sys('EACCES', 'open', '/r/x'), 'eval')?.exitCode, 1);
    assert.equal(failureOf(sys('EISDIR', 'open', '/r'), 'eval')?.exitCode, 2);
    assert.equal(failureOf(sys('EEXIST', 'mkdir', '/r'), 'eval')?.exitCode, 2);
  });
  it('a bug is not an expected failure (the caller prints it with the PGPO_DEBUG hint)', () => {
    assert.equal(failureOf(new TypeError('x is undefined'), 'train'), null);
  });
  it('PGPO_DEBUG=1 adds the stack to the line (without it there is none: above)', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'r.jsonl'), JSON.stringify({ group: 'g', reward: 1, dependency: [0.1] }) + '\n');
    const r = spawnSync(process.execPath, [BIN, 'reshape', '--in', join(dir, 'r.jsonl'), '--out', '/proc/1/none/o'], { encoding: 'utf8', env: { ...process.env, PGPO_DEBUG: '1' } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^pgpo reshape: cannot mkdir \/proc\/1\/none: .*\n.*\n\s+at /);
  });
});
