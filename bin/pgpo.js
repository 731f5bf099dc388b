#!/usr/bin/env node
// The `pgpo` command: registers tsx so the TypeScript sources run as they are, then hands over
// to the CLI dispatcher. Works from any working directory (npx, npm start, a global link).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
