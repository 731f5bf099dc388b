import { CliError, helpText, parseArgs, type FlagSpec, type ParsedArgs } from './args.ts';

/** What a sub-command module exports (src/cli/commands/*): run it with its arguments, get an exit code. */
export interface Command {
  readonly run: (argv: string[]) => Promise<number>;
}

/** How a command reads its arguments: the preamble every command shares (parseCommand). */
export interface CommandSpec {
  /** The words after `pgpo`, as its errors name it: `train`, `data inspect`. */
  readonly name: string;
  /** The usage line, printed by --help and after an unexpected argument. */
  readonly usage: string;
  readonly flags: Record<string, FlagSpec>;
  /** How many positional arguments it takes, more being errors; `any`: the command checks them. Default 0. */
  readonly positionals?: number | 'any';
  /** Whether it takes `key.path=value` overrides; if not, each is an unexpected argument. Default true. */
  readonly overrides?: boolean;
}

/**
 * Parses a command's arguments. With --help, prints the usage and the flags to stdout and returns
 * null (the command exits 0); a positional or override the command does not take is a CliError
 * naming the first one, followed by the usage line.
 */
export function parseCommand(argv: readonly string[], spec: CommandSpec): ParsedArgs | null {
  const args = parseArgs(argv, spec.flags, spec.name);
  if (args.flags.help === true) {
    process.stdout.write(helpText(spec.usage, spec.flags) + '\n');
    return null;
  }
  const positionals = spec.positionals ?? 0;
  const extra = [...(positionals === 'any' ? [] : args.positionals.slice(positionals)), ...((spec.overrides ?? true) ? [] : args.overrides.map((o) => o.join('=')))];
  if (extra.length) throw new CliError(`pgpo ${spec.name}: unexpected argument "${extra[0]}"\n${spec.usage}`);
  return args;
}
