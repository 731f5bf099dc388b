/**
 * `pgpo report RUN_DIR_OR_COMPARE_DIR... --out report.html`: reads run directories and compare
 * directories (src/report/run-data.ts) and writes one self-contained HTML page with the
 * comparison table, training curves, the analyses' figures and token heatmaps (docs/report.md).
 */
import { writeFileAtomic } from '../../data/atomic-write.ts';
import { renderReport } from '../../report/html.ts';
import { loadInputs, RunDataError } from '../../report/run-data.ts';
import { CliError, numberFlag, stringFlag, type FlagSpec } from '../args.ts';
import { parseCommand, type Command } from '../command.ts';

const flags: Record<string, FlagSpec> = {
  out: { type: 'string', description: 'the HTML file to write (default report.html)' },
  examples: { type: 'string', description: 'example rollouts shown per run (default 4)' },
  'heatmap-runs': { type: 'string', description: 'at most this many runs get token heatmaps (default 6)' },
  help: { type: 'boolean', description: 'show this help' },
};

const USAGE = 'pgpo report RUN_DIR_OR_COMPARE_DIR... [--out report.html] [--examples 4] [--heatmap-runs 6]';

export const command: Command = {
  async run(argv) {
    const args = parseCommand(argv, { name: 'report', usage: USAGE, flags, positionals: 'any', overrides: false });
    if (!args) return 0;
    if (!args.positionals.length) throw new CliError(`pgpo report: give at least one run or compare directory\n${USAGE}`);
    const out = stringFlag(args, 'out', 'report.html');
    const examplesPerRun = numberFlag(args, 'examples', 4, { integer: true, min: 0 });
    const heatmapRuns = numberFlag(args, 'heatmap-runs', 6, { integer: true, min: 0 });
    let inputs;
    try {
      inputs = loadInputs(args.positionals);
    } catch (err) {
      if (err instanceof RunDataError) throw new CliError(`pgpo report: ${err.message}`);
      throw err;
    }
    if (!inputs.runs.length && !inputs.compares.length) throw new CliError('pgpo report: no runs found in the given directories');
    const html = renderReport({ ...inputs, examplesPerRun, heatmapRuns, generated: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
    writeFileAtomic(out, html);
    process.stdout.write(`wrote ${out} (${Math.round(html.length / 1024)} KiB): ${inputs.runs.length} run(s), ${inputs.compares.length} comparison table(s)\n`);
    return 0;
  },
};
