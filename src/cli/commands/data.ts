/**
 * `pgpo data generate`: write a generated task suite as an EasyR1-format dataset (parquet, or
 * JSONL plus PNG files). `pgpo data inspect FILE`: validate a dataset and summarise it — rows
 * per family and variant, image sizes, text lengths, a few examples.
 */
import { join } from 'node:path';
import { DatasetError, readDataset } from '../../data/dataset.ts';
import { instanceRow } from '../../data/generated.ts';
import { imageInfo } from '../../data/image-codec.ts';
import { writeDataset } from '../../data/write-dataset.ts';
import { DEFAULT_IMAGE_SIZE, LADDER_MIN_IMAGE_SIZE, generateSuite } from '../../tasks/suite.ts';
import { ladderSpaceSize, RUNGS, type Rung } from '../../tasks/ladder.ts';
import { FAMILY_NAMES, VARIANT_NAMES, type Difficulty, type FamilyName, type VariantName } from '../../tasks/types.ts';
import { CliError, numberFlag, stringFlag, type FlagSpec, type ParsedArgs } from '../args.ts';
import { parseCommand, type Command } from '../command.ts';

const generateFlags: Record<string, FlagSpec> = {
  out: { type: 'string', description: 'output directory (writes DIR/<split>.parquet or DIR/<split>.jsonl + DIR/images/)' },
  n: { type: 'string', description: 'number of problems' },
  families: { type: 'string', multiple: true, description: `comma-separated subset of ${FAMILY_NAMES.join(',')} (default all)` },
  variants: { type: 'string', multiple: true, description: `comma-separated subset of ${VARIANT_NAMES.join(',')} (default all)` },
  split: { type: 'string', description: 'train|test (default train)' },
  seed: { type: 'string', description: 'seed, integer or string (default 0)' },
  difficulty: { type: 'string', description: '1|2|3 (default 1; classic world)' },
  world: { type: 'string', description: 'classic|ladder (default classic)' },
  rungs: { type: 'string', description: 'ladder world: comma-separated rungs 1..5 (default 1)' },
  format: { type: 'string', description: 'parquet|jsonl (default parquet)' },
  'image-size': { type: 'string', description: `image side in pixels, >= 32 (default ${DEFAULT_IMAGE_SIZE})` },
  help: { type: 'boolean', description: 'show this help' },
};

const inspectFlags: Record<string, FlagSpec> = {
  'prompt-key': { type: 'string', description: 'problem column (default problem)' },
  'answer-key': { type: 'string', description: 'answer column (default answer)' },
  'image-key': { type: 'string', description: 'images column (default images)' },
  'image-root': { type: 'string', description: "folder image paths must resolve inside (default: the file's folder)" },
  examples: { type: 'string', description: 'examples to print (default 3)' },
  help: { type: 'boolean', description: 'show this help' },
};

const GENERATE_USAGE =
  'pgpo data generate --out DIR --n N [--families a,b] [--variants a,b] [--split train|test] [--seed S] [--difficulty 1|2|3] [--world classic|ladder] [--rungs 1,2] [--format parquet|jsonl] [--image-size 48]';
const INSPECT_USAGE = 'pgpo data inspect FILE [--prompt-key problem] [--answer-key answer] [--image-key images] [--image-root DIR] [--examples 3]';

function listFlag<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T[] | undefined {
  const raw = args.flags[name];
  if (raw === undefined) return undefined;
  const items = (Array.isArray(raw) ? raw : [String(raw)])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const it of items) if (!(allowed as readonly string[]).includes(it)) throw new CliError(`--${name}: unknown "${it}" (choose from ${allowed.join(', ')})`);
  if (items.length === 0) throw new CliError(`--${name} needs at least one value`);
  return [...new Set(items)] as T[];
}

async function generate(argv: string[]): Promise<number> {
  const args = parseCommand(argv, { name: 'data generate', usage: GENERATE_USAGE, flags: generateFlags, overrides: false });
  if (!args) return 0;
  const out = stringFlag(args, 'out');
  if (!out || args.flags.n === undefined) throw new CliError(`pgpo data generate: --out and --n are required\n${GENERATE_USAGE}`);
  const n = numberFlag(args, 'n', 0, { integer: true, min: 1, max: 10_000_000 });
  const split = stringFlag(args, 'split', 'train');
  if (split !== 'train' && split !== 'test') throw new CliError(`--split must be train or test, got "${split}"`);
  const format = stringFlag(args, 'format', 'parquet');
  if (format !== 'parquet' && format !== 'jsonl') throw new CliError(`--format must be parquet or jsonl, got "${format}"`);
  const seedRaw = stringFlag(args, 'seed', '0');
  const seed = /^-?\d+$/.test(seedRaw) && Number.isSafeInteger(Number(seedRaw)) ? Number(seedRaw) : seedRaw;
  const difficulty = numberFlag(args, 'difficulty', 1, { integer: true, min: 1, max: 3 }) as Difficulty;
  const imageSize = numberFlag(args, 'image-size', DEFAULT_IMAGE_SIZE, { integer: true, min: 32, max: 2048 });
  const families = listFlag<FamilyName>(args, 'families', FAMILY_NAMES);
  const variants = listFlag<VariantName>(args, 'variants', VARIANT_NAMES);

  const world = stringFlag(args, 'world', 'classic');
  if (world !== 'classic' && world !== 'ladder') throw new CliError(`--world must be classic or ladder, got "${world}"`);
  const rungsRaw = stringFlag(args, 'rungs');
  if (rungsRaw !== undefined && world !== 'ladder') throw new CliError('--rungs applies to --world ladder only');
  const rungs = (rungsRaw ?? '1').split(',').map((x) => x.trim());
  for (const r of rungs) if (!/^[1-5]$/.test(r)) throw new CliError(`--rungs: "${r}" is not a rung (1..5)`);
  if (world === 'ladder' && imageSize < LADDER_MIN_IMAGE_SIZE) throw new CliError(`--image-size: the ladder world needs at least ${LADDER_MIN_IMAGE_SIZE} px, got ${imageSize}`);
  const level = world === 'ladder' ? { world: 'ladder' as const, rungs: [...new Set(rungs.map(Number))] } : { difficulty };
  const suite = generateSuite({ n, split, seed, imageSize, ...level, ...(families && { families }), ...(variants && { variants }) });
  const file = join(out, `${split}.${format}`);
  await writeDataset(file, suite.map(instanceRow));
  const what = world === 'ladder' ? `ladder rungs ${level.rungs!.join(',')}` : `difficulty ${difficulty}`;
  process.stdout.write(`wrote ${suite.length} ${split} problems (seed ${JSON.stringify(seed)}, ${what}, ${imageSize}px) to ${file}\n`);
  return 0;
}

function count<T>(items: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

async function inspect(argv: string[]): Promise<number> {
  const args = parseCommand(argv, { name: 'data inspect', usage: INSPECT_USAGE, flags: inspectFlags, positionals: 1, overrides: false });
  if (!args) return 0;
  const file = args.positionals[0];
  if (!file) throw new CliError(`pgpo data inspect: which file?\n${INSPECT_USAGE}`);
  const nExamples = numberFlag(args, 'examples', 3, { integer: true, min: 0 });
  const keys = {
    promptKey: stringFlag(args, 'prompt-key', 'problem'),
    answerKey: stringFlag(args, 'answer-key', 'answer'),
    imageKey: stringFlag(args, 'image-key', 'images'),
  };
  let rows;
  try {
    rows = await readDataset(file, keys, stringFlag(args, 'image-root') ?? null);
  } catch (err) {
    if (err instanceof DatasetError) throw new CliError(`pgpo data inspect: ${err.message}`, 1);
    throw err;
  }
  const sizes: string[] = [];
  for (const r of rows) {
    for (const [i, src] of r.images.entries()) {
      try {
        const info = await imageInfo(src);
        sizes.push(`${info.width}x${info.height} ${info.format}`);
      } catch (err) {
        throw new CliError(`pgpo data inspect: ${new DatasetError(file, r.row, `${keys.imageKey}[${i}]`, `unreadable image: ${(err as Error).message}`).message}`, 1);
      }
    }
  }
  const field = (r: (typeof rows)[number], k: string) => (typeof r.fields[k] === 'string' ? (r.fields[k] as string) : '-');
  const lines: string[] = [`${file}: ${rows.length} rows, ${sizes.length} images`];
  const table = (title: string, m: Map<string, number>) => {
    lines.push('', title);
    for (const [k, v] of [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) lines.push(`  ${k.padEnd(32)} ${v}`);
  };
  table('family / variant:', count(rows.map((r) => `${field(r, 'family')} / ${field(r, 'variant')}`)));
  // generated files: how many distinct problems the rows hold (a variant rewords a problem, it is not a new one)
  const keyed = rows.filter((r) => typeof r.fields.problem_key === 'string');
  if (keyed.length) {
    const familyOf = new Map(keyed.map((r) => [field(r, 'problem_key'), field(r, 'family')]));
    table(`distinct problems (problem_key): ${familyOf.size} in ${keyed.length} rows`, count([...familyOf.values()]));
  }
  // ladder files: rows per rung, the problem space each family draws from there, and the priors
  const laddered = rows.filter((r) => typeof r.fields.rung === 'number' || typeof r.fields.rung === 'bigint');
  if (laddered.length) {
    const rungOf = (r: (typeof rows)[number]) => Number(r.fields.rung);
    lines.push('', 'ladder rungs: rows, and distinct problems each family draws from at that rung (exact count)');
    for (const [rung, n] of [...count(laddered.map(rungOf)).entries()].sort((a, b) => a[0] - b[0])) {
      if (!(RUNGS as readonly number[]).includes(rung)) continue;
      const fams = [...new Set(laddered.filter((r) => rungOf(r) === rung).map((r) => field(r, 'family')))].sort() as FamilyName[];
      lines.push(
        `  rung ${rung}: ${n} rows; ${fams
          .filter((f) => FAMILY_NAMES.includes(f))
          .map((f) => `${f} ${ladderSpaceSize(f, rung as Rung).toLocaleString('en-US')}`)
          .join(', ')}`,
      );
    }
    const withPrior = laddered.filter((r) => typeof r.fields.prior_answer === 'string' && r.fields.prior_answer !== '');
    if (withPrior.length) {
      lines.push('', `language priors: ${withPrior.length} rows carry one; the prior's answer is right on`);
      for (const [rung, n] of [...count(withPrior.map(rungOf)).entries()].sort((a, b) => a[0] - b[0])) {
        const right = withPrior.filter((r) => rungOf(r) === rung && r.fields.prior_answer === r.answer).length;
        lines.push(`  rung ${rung}: ${right} of ${n} (${((100 * right) / n).toFixed(0)}%)`);
      }
    }
  }
  table('image sizes:', count(sizes));
  const len = (xs: number[]) => (xs.length ? `mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)}, max ${Math.max(...xs)}` : '-');
  lines.push('', 'characters:', `  ${keys.promptKey.padEnd(32)} ${len(rows.map((r) => r.problem.length))}`, `  ${keys.answerKey.padEnd(32)} ${len(rows.map((r) => r.answer.length))}`);
  const sols = rows.map((r) => r.fields.solution).filter((s): s is string => typeof s === 'string');
  if (sols.length) lines.push(`  ${'solution'.padEnd(32)} ${len(sols.map((s) => s.length))}`);
  for (const r of rows.slice(0, nExamples)) {
    lines.push('', `row ${r.row} (${field(r, 'family')}, ${field(r, 'variant')}):`, `  ${keys.promptKey}: ${r.problem}`, `  ${keys.answerKey}: ${r.answer}`);
    if (typeof r.fields.solution === 'string') lines.push(`  solution: ${r.fields.solution}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

const USAGE = `usage: pgpo data <generate|inspect> [options]\n  ${GENERATE_USAGE}\n  ${INSPECT_USAGE}`;

export const command: Command = {
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'generate') return generate(rest);
    if (sub === 'inspect') return inspect(rest);
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(USAGE + '\n');
      return sub === undefined ? 2 : 0;
    }
    throw new CliError(`pgpo data: unknown subcommand "${sub}"\n${USAGE}`);
  },
};
