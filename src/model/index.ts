/**
 * The compact vision-language policy: patch embedding -> small ViT -> projector -> causal
 * decoder over [image tokens | prompt | response]. `policyFactory` is what the trainer uses;
 * docs/model.md has the architecture, the shapes and the sizing reasoning.
 */

export { VlmPolicy, policyFactory, CHECKPOINT_FORMAT } from './policy.ts';
export { type ModelConfig, type PresetName, PRESETS, modelConfig } from './config.ts';
export { Tokenizer, SPECIALS, PAD, BOS, EOS, IMAGE } from './tokenizer.ts';
export { countParams } from './params.ts';
