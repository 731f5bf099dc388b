/**
 * Public surface of the task suite, for the trainer and for users: generate instances, render
 * figures for people, and the names and knobs that configure them.
 */
export { DEFAULT_IMAGE_SIZE, DEFAULT_TEST_FRACTION, LADDER_MIN_IMAGE_SIZE, SuiteConfigSchema, WORLDS, generateSuite, ladderAt, sampleInstance, sampleLadderInstance } from './suite.ts';
export type { World } from './suite.ts';
export { LADDER_FAMILIES, LADDER_RUNGS, PRIOR_DESCRIPTIONS, PRIOR_RATE, RUNGS, ladderKindSpace, ladderSpaceSize } from './ladder.ts';
export type { Rung } from './ladder.ts';
export type { ResolvedSuiteConfig, SuiteConfig } from './suite.ts';
export { splitOf, useOf } from './hash.ts';
export { renderPng } from './canvas.ts';
export { glyphPlacements, rasterize, MIN_IMAGE_SIZE } from './raster.ts';
export { FAMILIES } from './families/index.ts';
export { VARIANT_DESCRIPTIONS } from './variants.ts';
export { FAMILY_NAMES, VARIANT_NAMES } from './types.ts';
export type { Difficulty, FamilyName, Given, ShownGiven, Split, TaskInstance, VariantName } from './types.ts';
