/**
 * Turns a finished SFT run into the base model the repository ships:
 *   node --import tsx scripts/ship-base.ts RUN_DIR [OUT]        (OUT defaults to models/small-base)
 * OUT is itself a complete, minimal SFT run directory — config.yaml, metrics.jsonl, and the last
 * checkpoint with its trainer state and weights, without the optimizer moments (RL starts a
 * fresh optimizer; they would triple the size) — so `pgpo pipeline` can adopt it in place of a
 * warm start, and `pgpo eval --ckpt OUT` and `pgpo compare --base OUT` read it as any run.
 * It is written beside OUT and renamed into place at the end: an interrupted copy leaves the
 * previous OUT as it was.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { CliError } from '../src/cli/args.ts';
import { RunDir } from '../src/train/run-dir.ts';
import { runScript } from './script-errors.ts';

runScript('ship-base', () => {
  const [run, out = 'models/small-base', ...extra] = process.argv.slice(2);
  if (!run || extra.length) throw new CliError('usage: node --import tsx scripts/ship-base.ts RUN_DIR [OUT]');
  const rd = new RunDir(run);
  const latest = rd.latest();
  if (!latest || !existsSync(rd.configPath)) throw new CliError(`${run} is not a finished SFT run (no config.yaml or checkpoint)`);
  // OUT is replaced: it must not be the run it is made from, nor hold it
  const rel = relative(resolve(out), resolve(run));
  const outside = rel === '..' || rel.startsWith(`..${sep}`); // not '..x', a folder of that name inside OUT
  if (!outside) throw new CliError(`OUT ${out} would replace the run ${run} it copies; give another OUT`);
  const tmp = `${out.replace(/\/+$/, '')}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const name = relative(rd.checkpoints, latest.dir);
  mkdirSync(join(tmp, 'checkpoints', name, 'policy'), { recursive: true });
  cpSync(rd.configPath, join(tmp, 'config.yaml'));
  cpSync(rd.metricsPath, join(tmp, 'metrics.jsonl'));
  cpSync(join(latest.dir, 'trainer.json'), join(tmp, 'checkpoints', name, 'trainer.json'));
  for (const f of ['model.safetensors', 'policy.json']) cpSync(join(latest.dir, 'policy', f), join(tmp, 'checkpoints', name, 'policy', f));
  writeFileSync(join(tmp, 'checkpoints', 'latest.json'), JSON.stringify({ step: latest.step, dir: name }) + '\n');
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  const mib = statSync(join(out, 'checkpoints', name, 'policy', 'model.safetensors')).size / 2 ** 20;
  process.stderr.write(`ship-base: ${run} step ${latest.step} -> ${out} (${mib.toFixed(1)} MiB of weights)\n`);
});
