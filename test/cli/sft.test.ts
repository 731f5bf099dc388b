// `pgpo sft` end to end in a child process, as a user runs it: the argument errors that need no training.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const BIN = join(import.meta.dirname, '../../bin/pgpo.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'sft', ...args], { encoding: 'utf8' });

describe('pgpo sft', () => {
  it('--resume on a directory without config.yaml exits 2 with one line naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgpo-sft-cli-'));
    const r = run(['--resume', dir]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `pgpo sft: --resume ${dir}: no config.yaml there (not a run directory)\n`);
  });
});
