// `pgpo` itself: the command table that --help prints.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const BIN = join(import.meta.dirname, '../../bin/pgpo.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('pgpo', () => {
  it('--help lists every command with its summary', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0, r.stderr);
    const table = r.stdout.split('commands:\n')[1].trimEnd().split('\n');
    assert.deepEqual(
      table.map((l) => l.trim().split(/\s{2,}/)[0]),
      ['pipeline', 'sft', 'train', 'eval', 'compare', 'reshape', 'report', 'data', 'verify'],
    );
    for (const l of table) assert.match(l, /^ {2}[a-z]+ {2,}\S.{10,}$/, `no summary in "${l}"`);
    assert.match(r.stdout, /\n {2}verify {2,}score a response against a gold answer with the training reward\n/);
    assert.match(r.stdout, /\n {2}train {2,}RL training \(GRPO, DAPO, PGPO, VPPO, PAPO\)\n/);
  });

  it('no command: the same help on stdout, exit 2; an unknown one: exit 2 on stderr', () => {
    const none = run([]);
    assert.equal(none.status, 2);
    assert.match(none.stdout, /pipeline {2,}the main job/);
    const bad = run(['frobnicate']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^pgpo: unknown command "frobnicate"\n/);
  });
});
