/**
 * Turns a finished SFT run into the base model the repository ships:
 *   node --import tsx scripts/ship-base.ts RUN_DIR [OUT]        (OUT defaults to models/small-base)
 * OUT is itself a complete, minimal SFT run directory — config.yaml, metrics.jsonl, and the last
 * checkpoint with its trainer state and weights, without the optimizer moments (RL starts a
 * fresh optimizer; they would triple the size) — so `pgpo pipeline` can adopt it in place of a
 * warm start, and `pgpo eval --ckpt OUT` and `pgpo compare --base OUT` read it as any run.
 */
import { cpSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RunDir } from '../src/train/run-dir.ts';

const [run, out = 'models/small-base'] = process.argv.slice(2);
if (!run) {
  process.stderr.write('usage: node --import tsx scripts/ship-base.ts RUN_DIR [OUT]\n');
  process.exit(2);
}
const rd = new RunDir(run);
const latest = rd.latest();
if (!latest || !existsSync(rd.configPath)) {
  process.stderr.write(`ship-base: ${run} is not a finished SFT run (no config.yaml or checkpoint)\n`);
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
const name = relative(rd.checkpoints, latest.dir);
mkdirSync(join(out, 'checkpoints', name, 'policy'), { recursive: true });
cpSync(rd.configPath, join(out, 'config.yaml'));
cpSync(rd.metricsPath, join(out, 'metrics.jsonl'));
cpSync(join(latest.dir, 'trainer.json'), join(out, 'checkpoints', name, 'trainer.json'));
for (const f of ['model.safetensors', 'policy.json']) cpSync(join(latest.dir, 'policy', f), join(out, 'checkpoints', name, 'policy', f));
writeFileSync(join(out, 'checkpoints', 'latest.json'), JSON.stringify({ step: latest.step, dir: name }) + '\n');
const mib = statSync(join(out, 'checkpoints', name, 'policy', 'model.safetensors')).size / 2 ** 20;
process.stderr.write(`ship-base: ${run} step ${latest.step} -> ${out} (${mib.toFixed(1)} MiB of weights)\n`);
