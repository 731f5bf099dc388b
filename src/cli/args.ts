/**
 * A small, strict command-line parser shared by every `pgpo` sub-command: `--flag value`,
 * `--flag=value`, boolean `--flag`, dotted `key.path=value` overrides and positionals.
 * Unknown flags are errors that name the flag, so a typo never silently uses a default.
 */

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface FlagSpec {
  /** `string` takes a value; `boolean` takes none. */
  readonly type: 'string' | 'boolean';
  readonly description: string;
  /** May the flag repeat (values are collected into a list)? */
  readonly multiple?: boolean;
}

export interface ParsedArgs {
  readonly flags: Record<string, string | boolean | string[]>;
  /** `a.b.c=value` arguments, in order. */
  readonly overrides: Array<[string, string]>;
  readonly positionals: string[];
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>, command: string): ParsedArgs {
  const flags: Record<string, string | boolean | string[]> = {};
  const overrides: Array<[string, string]> = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const s = spec[name];
      if (!s) {
        const known = Object.keys(spec)
          .map((k) => `--${k}`)
          .join(', ');
        throw new CliError(`pgpo ${command}: unknown flag --${name} (known: ${known || 'none'})`);
      }
      let value: string | boolean;
      if (s.type === 'boolean') {
        if (eq >= 0) {
          const v = arg.slice(eq + 1);
          if (v !== 'true' && v !== 'false') throw new CliError(`pgpo ${command}: --${name} takes true or false, got "${v}"`);
          value = v === 'true';
        } else value = true;
      } else if (eq >= 0) value = arg.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) throw new CliError(`pgpo ${command}: --${name} needs a value`);
        value = argv[++i];
      }
      if (s.multiple) {
        const prev = flags[name];
        flags[name] = [...(Array.isArray(prev) ? prev : []), String(value)];
      } else {
        if (name in flags) throw new CliError(`pgpo ${command}: --${name} given twice`);
        flags[name] = value;
      }
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0 && /^[A-Za-z_][\w.-]*$/.test(arg.slice(0, eq))) {
      overrides.push([arg.slice(0, eq), arg.slice(eq + 1)]);
      continue;
    }
    positionals.push(arg);
  }
  return { flags, overrides, positionals };
}

/** A string flag's value, or the default; errors if a boolean slipped through. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined;
export function stringFlag(args: ParsedArgs, name: string, fallback: string): string;
export function stringFlag(args: ParsedArgs, name: string, fallback?: string): string | undefined {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw new CliError(`--${name} needs a value`);
  return v;
}

/** A numeric flag, validated: the error names the flag and the bad value. */
export function numberFlag(args: ParsedArgs, name: string, fallback: number, check: { integer?: boolean; min?: number; max?: number } = {}): number {
  const raw = args.flags[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v)) throw new CliError(`--${name} must be a number, got "${raw}"`);
  if (check.integer && !Number.isInteger(v)) throw new CliError(`--${name} must be an integer, got ${raw}`);
  if (check.min !== undefined && v < check.min) throw new CliError(`--${name} must be >= ${check.min}, got ${raw}`);
  if (check.max !== undefined && v > check.max) throw new CliError(`--${name} must be <= ${check.max}, got ${raw}`);
  return v;
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true;
}

export function helpText(usage: string, spec: Record<string, FlagSpec>): string {
  const lines = [`usage: ${usage}`, ''];
  for (const [name, s] of Object.entries(spec)) {
    lines.push(`  --${name}${s.type === 'string' ? ' VALUE' : ''}`.padEnd(28) + s.description);
  }
  return lines.join('\n');
}
