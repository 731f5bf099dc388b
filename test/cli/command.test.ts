/**
 * The preamble every command shares (parseCommand): --help prints the usage and the flags and
 * asks for exit 0; a positional or override the command does not take is an error naming it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError, helpText, type FlagSpec } from '../../src/cli/args.ts';
import { parseCommand, type CommandSpec } from '../../src/cli/command.ts';

const flags: Record<string, FlagSpec> = { out: { type: 'string', description: 'where' }, help: { type: 'boolean', description: 'show this help' } };
const spec: CommandSpec = { name: 'data inspect', usage: 'pgpo data inspect FILE', flags, positionals: 1, overrides: false };
const fails = (argv: string[], s: CommandSpec, message: string) =>
  assert.throws(
    () => parseCommand(argv, s),
    (e: unknown) => e instanceof CliError && e.message === message && e.exitCode === 2,
  );

test('parseCommand: --help prints the help text and returns null', (t) => {
  const written: string[] = [];
  t.mock.method(process.stdout, 'write', (s: string) => (written.push(s), true));
  assert.equal(parseCommand(['--help', 'a', 'b', 'k=v'], spec), null);
  assert.deepEqual(written, [helpText(spec.usage, flags) + '\n']);
});

test('parseCommand: extra positionals or overrides are refused, the first one named, with the usage', () => {
  assert.deepEqual(parseCommand(['f.parquet', '--out', 'x'], spec), { flags: { out: 'x' }, overrides: [], positionals: ['f.parquet'] });
  fails(['a', 'b', 'k=v'], spec, 'pgpo data inspect: unexpected argument "b"\npgpo data inspect FILE');
  fails(['a', 'k=v'], spec, 'pgpo data inspect: unexpected argument "k=v"\npgpo data inspect FILE');
  // by default: no positionals, overrides taken
  const train: CommandSpec = { name: 'train', usage: 'pgpo train', flags };
  assert.deepEqual(parseCommand(['k=v'], train)?.overrides, [['k', 'v']]);
  fails(['k=v', 'x'], train, 'pgpo train: unexpected argument "x"\npgpo train');
  // 'any': the command checks its positionals itself
  assert.deepEqual(parseCommand(['a', 'b'], { ...train, positionals: 'any' })?.positionals, ['a', 'b']);
  fails(['--nope'], train, 'pgpo train: unknown flag --nope (known: --out, --help)');
});
