#!/usr/bin/env node
// The `pgpo` command: registers tsx so the TypeScript sources run as they are, then hands over
// to the CLI dispatcher. Works from any working directory (npx, npm start, a global link).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
// Exit once the command is done rather than when nothing is left to run: a finished command's
// process ends even if something (a helper thread, a timer) were still holding it. The empty
// writes' callbacks run once everything written before them is out, so no output is cut short
// (writes to pipes are asynchronous on some platforms).
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
