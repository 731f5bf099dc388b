/**
 * `pgpo` entry point: a table of sub-commands, each in its own file under src/cli/commands,
 * loaded lazily so that `pgpo verify` never pays for the model engine's start-up.
 */
import { CliError } from './args.ts';

export interface Command {
  readonly summary: string;
  readonly run: (argv: string[]) => Promise<number>;
}

type Loader = () => Promise<Command>;

const commands: Record<string, Loader> = {
  pipeline: async () => (await import('./commands/pipeline.ts')).command,
  sft: async () => (await import('./commands/sft.ts')).command,
  train: async () => (await import('./commands/train.ts')).command,
  eval: async () => (await import('./commands/eval.ts')).command,
  compare: async () => (await import('./commands/compare.ts')).command,
  reshape: async () => (await import('./commands/reshape.ts')).command,
  report: async () => (await import('./commands/report.ts')).command,
  data: async () => (await import('./commands/data.ts')).command,
  verify: async () => (await import('./commands/verify.ts')).command,
};

function usage(): string {
  return [
    'pgpo — Perception-Grounded Policy Optimization for vision-language models',
    '',
    'usage: pgpo <command> [options]     (pgpo <command> --help for its options)',
    '',
    'commands:',
    ...Object.keys(commands).map((name) => `  ${name}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`pgpo: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    const command = await load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
