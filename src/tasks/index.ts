/**
 * Public surface of the task suite, for the trainer and for users: generate instances, render
 * figures for people, and the names and knobs that configure them.
 */
export { DEFAULT_IMAGE_SIZE, DEFAULT_TEST_FRACTION, SuiteConfigSchema, generateSuite, sampleInstance } from './suite.ts';
export type { ResolvedSuiteConfig, SuiteConfig } from './suite.ts';
export { splitOf, useOf } from './hash.ts';
export { renderPng } from './canvas.ts';
export { glyphPlacements, rasterize, MIN_IMAGE_SIZE } from './raster.ts';
export { FAMILIES } from './families/index.ts';
export { VARIANT_DESCRIPTIONS } from './variants.ts';
export { FAMILY_NAMES, VARIANT_NAMES } from './types.ts';
export type { Difficulty, FamilyName, Given, ShownGiven, Split, TaskInstance, VariantName } from './types.ts';
