/**
 * The family registry: a family's name, as used in configs and on the command line, to its
 * sampler. Adding a family is one file under families/ plus one line here.
 */
import type { Family, FamilyName } from '../types.ts';
import { arithmetic } from './arithmetic.ts';
import { chart } from './chart.ts';
import { choice } from './choice.ts';
import { counting } from './counting.ts';
import { geometry } from './geometry.ts';

export const FAMILIES: Readonly<Record<FamilyName, Family>> = { geometry, chart, counting, choice, arithmetic };
