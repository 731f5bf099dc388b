/**
 * pgpo's algorithm layer: pure functions over arrays, no model, no engine. Where to look:
 *   dependency.ts   S_t: k1/k2/k3 from two log-probs, exact KL from two logit rows
 *   score.ts        S~ = log(1+S), min-max I over one response
 *   reshape.ts      the gate w(I), mass-conserving normalisation, variants by name
 *   pgpo.ts         all of it over a batch of rollouts: A_i -> w~_t -> A~_{i,t}
 *   advantage.ts    grpo / drgrpo / rloo / reinforce++ by name, DAPO dynamic sampling
 *   aggregation.ts  token-mean / seq-mean-token-mean / seq-mean-token-sum(-norm)
 *   policy-loss.ts  PPO clip (clip-higher, dual clip) -> loss and dLoss/dlogp
 *   kl.ts, entropy.ts   reference-KL penalty, entropy from logits and entropy terms
 *   baselines/      VPPO and PAPO
 *   metrics.ts      sparsity (top-10% share), Gini, weight statistics
 *   placebo.ts      the no-signal control: rewards shuffled within each group
 *   algorithms/     grpo, dapo, pgpo, vppo, papo behind one interface, by name
 */
export * from './errors.ts';
export * from './registry.ts';
export * from './numeric.ts';
export * from './dependency.ts';
export * from './score.ts';
export * from './reshape.ts';
export * from './advantage.ts';
export * from './aggregation.ts';
export * from './policy-loss.ts';
export * from './kl.ts';
export * from './entropy.ts';
export * from './metrics.ts';
export * from './pgpo.ts';
export * from './baselines/vppo.ts';
export * from './baselines/papo.ts';
export * from './pg-variance.ts';
export * from './placebo.ts';
export * from './algorithms/index.ts';
