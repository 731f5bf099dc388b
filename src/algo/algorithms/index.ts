/** The algorithms by name (config `algorithm.name`); adding one is one module and one line here. */
import { Registry } from '../registry.ts';
import { dapo, grpo } from './grpo.ts';
import { papo } from './papo.ts';
import { pgpo } from './pgpo.ts';
import type { Algorithm } from './types.ts';
import { vppo } from './vppo.ts';

export * from './types.ts';

export const algorithms = new Registry<Algorithm>('algorithm').register('grpo', grpo).register('dapo', dapo).register('pgpo', pgpo).register('vppo', vppo).register('papo', papo);
