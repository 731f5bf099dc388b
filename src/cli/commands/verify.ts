/**
 * `pgpo verify --pred TEXT --answer TEXT`: score one response with the training reward and
 * print `{"accuracy":0|1,"format":0|1,"reward":x}`. `--pred -` reads the response from stdin,
 * so multi-line responses need no shell quoting.
 */
import { readFileSync } from 'node:fs';
import { computeReward, DEFAULT_FORMAT_WEIGHT } from '../../reward/index.ts';
import { CliError, numberFlag, stringFlag, type FlagSpec } from '../args.ts';
import { parseCommand, type Command } from '../command.ts';

const flags: Record<string, FlagSpec> = {
  pred: { type: 'string', description: 'the model response (- reads it from stdin)' },
  answer: { type: 'string', description: 'the gold answer' },
  'format-weight': { type: 'string', description: `weight of the format score (default ${DEFAULT_FORMAT_WEIGHT})` },
  help: { type: 'boolean', description: 'show this help' },
};

const USAGE = 'pgpo verify --pred TEXT|- --answer TEXT [--format-weight 0.1]';

export const command: Command = {
  async run(argv) {
    const args = parseCommand(argv, { name: 'verify', usage: USAGE, flags, overrides: false });
    if (!args) return 0;
    const pred = stringFlag(args, 'pred');
    const answer = stringFlag(args, 'answer');
    if (pred === undefined || answer === undefined) throw new CliError(`pgpo verify: --pred and --answer are required\n${USAGE}`);
    const formatWeight = numberFlag(args, 'format-weight', DEFAULT_FORMAT_WEIGHT, { min: 0, max: 1 });
    const response = pred === '-' ? readFileSync(0, 'utf8') : pred;
    const score = computeReward(response, answer, { formatWeight });
    process.stdout.write(JSON.stringify({ accuracy: score.accuracy, format: score.format, reward: score.reward }) + '\n');
    return 0;
  },
};
