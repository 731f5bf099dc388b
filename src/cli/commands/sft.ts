/**
 * `pgpo sft --out DIR [--resume DIR] [key=value ...]`: supervised warm start on the gold solutions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadYaml } from '../../train/config-merge.ts';
import { sft } from '../../train/sft.ts';
import { loadProblems, policyFactory } from '../../train/sources.ts';
import { CliError, stringFlag, type FlagSpec } from '../args.ts';
import { parseCommand, type Command } from '../command.ts';
import { completeRunNote, CONFIG_FLAGS, configFrom, withInterrupt, checkResumePreset } from '../session.ts';

const flags: Record<string, FlagSpec> = {
  out: { type: 'string', description: 'run directory to create' },
  resume: { type: 'string', description: 'continue the SFT run in this directory' },
  ...CONFIG_FLAGS,
  help: { type: 'boolean', description: 'show this help' },
};
const USAGE = 'pgpo sft --out DIR [--preset tiny|small|medium] [--config FILE] [sft.total_steps=N ...]\n       pgpo sft --resume DIR';

export const command: Command = {
  async run(argv) {
    const args = parseCommand(argv, { name: 'sft', usage: USAGE, flags });
    if (!args) return 0;
    const resume = stringFlag(args, 'resume');
    const out = resume ?? stringFlag(args, 'out');
    if (!out) throw new CliError(`pgpo sft: --out DIR is required\n${USAGE}`);
    let base;
    if (resume) {
      let text: string;
      try {
        text = readFileSync(join(resume, 'config.yaml'), 'utf8');
      } catch {
        throw new CliError(`pgpo sft: --resume ${resume}: no config.yaml there (not a run directory)`);
      }
      base = loadYaml(text, join(resume, 'config.yaml')).value;
      checkResumePreset('sft', args, resume, base);
    }
    const config = configFrom(args, undefined, base);
    const note = resume ? completeRunNote(resume, config.sft.total_steps, 'sft.total_steps') : null;
    if (note) {
      process.stderr.write(note + '\n');
      return 0;
    }
    const problems = await loadProblems(config, 'train', 'sft');
    const res = await withInterrupt((signal) => sft({ config, out, factory: policyFactory(config), problems, resume: Boolean(resume), signal }));
    if (res.stopped === 'interrupted') return 130;
    process.stderr.write(`done: ${res.state.step} SFT steps; checkpoint ${res.checkpoint}\n`);
    return 0;
  },
};
