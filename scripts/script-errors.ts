/**
 * The analysis scripts' error handling: what a user causes (a bad flag, an unreadable eval.json)
 * is one line on stderr and exit status 2; anything else is a bug and throws.
 */
import { CliError } from '../src/cli/args.ts';
import { EvalReportError } from '../src/eval/evaluate.ts';

export function runScript(name: string, body: () => void): void {
  try {
    body();
  } catch (err) {
    if (!(err instanceof CliError || err instanceof EvalReportError)) throw err;
    // parseArgs already names the script ("pgpo NAME: ..."); the script's own errors get its name here
    process.stderr.write(`${err.message.startsWith(`pgpo ${name}:`) ? '' : `${name}: `}${err.message}\n`);
    process.exit(2);
  }
}
