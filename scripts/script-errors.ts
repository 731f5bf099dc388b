/**
 * The analysis scripts' error handling: what a user causes (a bad flag, an unreadable eval.json, run directory
 * or dataset) is one line on stderr and exit status 2; anything else is a bug and throws.
 */
import { CliError } from '../src/cli/args.ts';
import { RunDataError } from '../src/report/run-data.ts';
import { DatasetError } from '../src/data/dataset.ts';
import { EvalReportError } from '../src/eval/evaluate.ts';

function userError(name: string, err: unknown): never {
  if (!(err instanceof CliError || err instanceof EvalReportError || err instanceof DatasetError || err instanceof RunDataError)) throw err;
  // parseArgs already names the script ("pgpo NAME: ..."); the script's own errors get its name here
  process.stderr.write(`${err.message.startsWith(`pgpo ${name}:`) ? '' : `${name}: `}${err.message}\n`);
  process.exit(2);
}

/** Runs a script's body (sync or async) with that handling. */
export function runScript(name: string, body: () => void | Promise<void>): void {
  try {
    const done = body();
    if (done) done.catch((err: unknown) => userError(name, err));
  } catch (err) {
    userError(name, err);
  }
}
