/**
 * `pgpo` entry point: a table of sub-commands, each in its own file under src/cli/commands,
 * loaded lazily so that `pgpo verify` never pays for the model engine's start-up.
 */
import { failureOf, isClosedPipe } from './errors.ts';
import type { Command } from './command.ts';

interface Entry {
  /** One line for `pgpo --help`; here, not in the command's module, so that help loads none. */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

const commands: Record<string, Entry> = {
  pipeline: { summary: 'the main job: data, warm start, base eval, RL, trained eval, table', load: async () => (await import('./commands/pipeline.ts')).command },
  sft: { summary: 'supervised warm start of a fresh policy on gold solutions', load: async () => (await import('./commands/sft.ts')).command },
  train: { summary: 'RL training (GRPO, DAPO, PGPO, VPPO, PAPO)', load: async () => (await import('./commands/train.ts')).command },
  eval: { summary: 'avg@k accuracy per family and variant', load: async () => (await import('./commands/eval.ts')).command },
  compare: { summary: 'train and evaluate several algorithms (or PGPO ablations) from one base, over seeds', load: async () => (await import('./commands/compare.ts')).command },
  reshape: { summary: 'reshape the advantages of a rollout file (JSONL) with PGPO', load: async () => (await import('./commands/reshape.ts')).command },
  report: { summary: 'one self-contained HTML report from run and compare directories', load: async () => (await import('./commands/report.ts')).command },
  data: { summary: 'generate the task suite as an EasyR1 dataset, or inspect a dataset', load: async () => (await import('./commands/data.ts')).command },
  verify: { summary: 'score a response against a gold answer with the training reward', load: async () => (await import('./commands/verify.ts')).command },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 2;
  return [
    'pgpo — Perception-Grounded Policy Optimization for vision-language models',
    '',
    'usage: pgpo <command> [options]     (pgpo <command> --help for its options)',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    process.stderr.write(`pgpo: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  // `pgpo ... --out - | head`: the reader closed the pipe, having read what it wanted; not an error.
  // (It surfaces after the command returned, when the buffered write fails: the handler stays.)
  const onStdoutError = (err: Error) => {
    if (isClosedPipe(err)) process.exit(0);
    reportFailure(err, name);
    process.exit(1);
  };
  process.stdout.on('error', onStdoutError);
  try {
    const command = await entry.load();
    return await command.run(rest);
  } catch (err) {
    if (isClosedPipe(err)) return 0;
    return reportFailure(err, name);
  }
}

/**
 * The one place a command's failure is printed: one line and its exit code; an error no path
 * expects (a bug) prints its message and how to see the stack, which PGPO_DEBUG=1 prints.
 */
export function reportFailure(err: unknown, command: string): number {
  const debug = process.env.PGPO_DEBUG === '1';
  const failure = failureOf(err, command);
  if (failure) {
    process.stderr.write(`${failure.line}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return failure.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`pgpo ${command}: internal error: ${message.split('\n')[0]}${debug ? '' : ' (PGPO_DEBUG=1 shows where)'}\n`);
  if (debug) process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  return 1;
}
