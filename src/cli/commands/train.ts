/**
 * `pgpo train --algo grpo|dapo|pgpo|vppo|papo --out DIR [--init CKPT] [--resume DIR] [key=value ...]`
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadYaml } from '../../train/config-merge.ts';
import { ALGORITHMS } from '../../train/config.ts';
import { runDirOf, train } from '../../train/trainer.ts';
import { loadProblems, policyFactory, reward } from '../../train/sources.ts';
import { CliError, stringFlag, type FlagSpec } from '../args.ts';
import { parseCommand, type Command } from '../command.ts';
import { engineHeapBytes } from '../../engine/jax.ts';
import { completeRunNote, CONFIG_FLAGS, configFrom, runChild, RL_SUITE_KEYS, suiteNote, withInterrupt, checkResumePreset } from '../session.ts';

/**
 * jax-js's wasm heap only grows (a new size class for each new tensor size, never returned) and
 * fails at 4 GiB; a long run that meets many shapes (PAPO's extra passes) reaches it. Above this
 * the run checkpoints and continues in a fresh process, which resumes it exactly.
 */
const HEAP_RESTART_BYTES = 3 * 2 ** 30;

const flags: Record<string, FlagSpec> = {
  algo: { type: 'string', description: `${ALGORITHMS.join('|')} (default pgpo, on the DAPO recipe)` },
  out: { type: 'string', description: 'run directory to create' },
  init: { type: 'string', description: 'start from this checkpoint or run directory (worker.actor.init_checkpoint)' },
  resume: { type: 'string', description: 'continue the run in this directory from its latest checkpoint' },
  ...CONFIG_FLAGS,
  help: { type: 'boolean', description: 'show this help' },
};
const USAGE = 'pgpo train --algo pgpo --out DIR [--preset tiny|small|medium] [--config FILE] [--init CKPT] [key.path=value ...]\n       pgpo train --resume DIR [key.path=value ...]';

export const command: Command = {
  async run(argv) {
    const args = parseCommand(argv, { name: 'train', usage: USAGE, flags });
    if (!args) return 0;
    const resume = stringFlag(args, 'resume');
    const init = stringFlag(args, 'init');
    const overrides = init ? [...args.overrides, ['worker.actor.init_checkpoint', init] as [string, string]] : args.overrides;
    let out: string;
    let config;
    if (resume) {
      if (stringFlag(args, 'out') && stringFlag(args, 'out') !== resume) throw new CliError('pgpo train: --resume continues the run in place; do not also give --out');
      let text: string;
      try {
        text = readFileSync(join(resume, 'config.yaml'), 'utf8');
      } catch {
        throw new CliError(`pgpo train: --resume ${resume}: no config.yaml there (not a run directory)`);
      }
      const base = loadYaml(text, join(resume, 'config.yaml')).value;
      checkResumePreset('train', args, resume, base);
      config = configFrom({ ...args, overrides }, stringFlag(args, 'algo'), base);
      out = resume;
      const note = completeRunNote(resume, config.trainer.total_steps, 'trainer.total_steps');
      if (note) {
        process.stderr.write(note + '\n');
        return 0;
      }
    } else {
      out = stringFlag(args, 'out') ?? '';
      if (!out) throw new CliError(`pgpo train: --out DIR is required\n${USAGE}`);
      config = configFrom({ ...args, overrides }, stringFlag(args, 'algo'));
      // RL from a base trained on another suite (or another SFT/RL key split) is legitimate but easy to do by accident
      const from = config.worker.actor.init_checkpoint;
      const note = from && existsSync(from) ? suiteNote(runDirOf(from), config, RL_SUITE_KEYS) : null;
      if (note) process.stderr.write(`pgpo train: ${note}\n`);
    }
    const problems = await loadProblems(config, 'train', 'rl');
    const mib = () => Math.round(engineHeapBytes() / 2 ** 20);
    const res = await withInterrupt((signal) =>
      train({
        config,
        out,
        factory: policyFactory(config),
        problems,
        reward: reward(),
        resume: Boolean(resume),
        signal,
        engineStats: () => ({ heap_mib: mib() }),
        restartWhen: () => (engineHeapBytes() > HEAP_RESTART_BYTES ? `the wasm heap holds ${mib()} MiB of its 4096` : null),
      }),
    );
    if (res.stopped === 'interrupted') return 130;
    if (res.stopped === 'restart') {
      process.stderr.write(`step ${res.state.step}: ${res.reason}; checkpointed, continuing in a fresh process\n`);
      return runChild(['train', '--resume', out]);
    }
    if (res.stopped === 'nonfinite') return 1;
    process.stderr.write(`done: ${res.state.step} steps; checkpoint ${res.checkpoint}\n`);
    return 0;
  },
};
