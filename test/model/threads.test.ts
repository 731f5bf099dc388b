/**
 * The native engine's helper threads (helper-threads.ts): how groups are shared out, and that
 * sharing them changes nothing. Attention and GELU on helper threads give the same bits as on one; and a
 * whole policy (scoring in both modes, gradients, KV-cache sampling, whose decode steps then run
 * on a shared WebAssembly memory, their rows split between the threads) in a process with a helper
 * (the default on 2 threads) gives the same bits as one with none, in fresh processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Rng } from '../../src/engine/rng.ts';
import { HelperThreads, splitByCost } from '../../src/model/native/helper-threads.ts';
import { type AttnSpec, attentionBackward, attentionForward, probsLayout } from '../../src/model/native/attention.ts';
import { geluForward, geluForwardSplit } from '../../src/model/native/ops.ts';
import { exactRowSplit } from '../../src/model/native/blas.ts';

test('splitByCost: contiguous shares ending at costs.length, balanced by cost, empty ones allowed', () => {
  assert.deepEqual(splitByCost([1, 1, 1, 1], 2), [2, 4]);
  assert.deepEqual(splitByCost([3, 1, 1, 1], 2), [1, 4]);
  assert.deepEqual(splitByCost([1, 1, 1, 1, 1, 1], 3), [2, 4, 6]);
  assert.deepEqual(splitByCost([5], 2), [1, 1]); // one item: one share is empty
  assert.deepEqual(splitByCost([], 2), [0, 0]);
  assert.deepEqual(splitByCost([1, 2, 3], 1), [3]);
  // shares end at multiples of the step, or at the end
  assert.deepEqual(splitByCost(new Array(28).fill(1), 2, 12), [12, 28]);
  assert.deepEqual(splitByCost(new Array(30).fill(1), 2, 12), [12, 30]); // blocks 12 | 12 | 6: 12 is nearer half than 24
  assert.deepEqual(splitByCost(new Array(40).fill(1), 2, 4), [20, 40]);
  assert.deepEqual(splitByCost([9, 1, 1, 1, 1, 1, 1, 1], 2, 2), [2, 8]);
  assert.deepEqual(splitByCost(new Array(10).fill(1), 2, 12), [10, 10]);
});

test('attention forward and backward on a helper thread: the same bits as on this one', async () => {
  const rng = Rng.seeded('threads.test');
  const [H, D] = [2, 8];
  const C = H * D;
  const groups = [
    { p0: 0, S: 7, resp: [5, 3] },
    { p0: 15, S: 4, resp: [6] },
    { p0: 25, S: 9, resp: [2, 2, 4] },
  ];
  const rows = 42;
  const spec: AttnSpec = { groups, causal: true, H, D };
  const shared = (n: number, fill = false) => {
    const a = new Float32Array(new SharedArrayBuffer(4 * n));
    if (fill) for (let i = 0; i < n; i++) a[i] = rng.normal();
    return a;
  };
  const qkv = shared(rows * 3 * C, true);
  const dout = shared(rows * C, true);
  const { total, block } = probsLayout(spec);
  const run = (helpers: HelperThreads | null) => {
    const out = shared(rows * C);
    const probs = shared(total);
    const dqkv = shared(rows * 3 * C);
    attentionForward(out, probs, qkv, spec, helpers);
    attentionBackward(dqkv, dout, probs, qkv, spec, rows, [shared(block), shared(block)], helpers);
    return { out, probs, dqkv };
  };
  const helpers = new HelperThreads(1);
  try {
    assert.ok(await helpers.whenReady(), 'the helper thread did not start');
    const one = run(null);
    const two = run(helpers);
    assert.equal(helpers.sharedSections, 2, 'forward and backward must have run on the helper, not all here');
    assert.deepEqual(two.out, one.out);
    assert.deepEqual(two.probs, one.probs);
    assert.deepEqual(two.dqkv, one.dqkv);
  } finally {
    helpers.dispose();
  }
});

test('GELU split with a helper thread: the same bits (values and gate) as on this one', async () => {
  const rng = Rng.seeded('threads.test gelu');
  const n = 5 * 16384 + 123; // past the split threshold, the last chunk partial
  const shared = (fill: boolean) => {
    const a = new Float32Array(new SharedArrayBuffer(4 * n));
    if (fill) for (let i = 0; i < n; i++) a[i] = 3 * rng.normal();
    return a;
  };
  const x = shared(true);
  const [y1, g1] = [new Float32Array(n), new Float32Array(n)];
  geluForward(y1, x, n, g1);
  const helpers = new HelperThreads(1);
  try {
    assert.ok(await helpers.whenReady(), 'the helper thread did not start');
    const [y2, g2] = [shared(false), shared(false)];
    geluForwardSplit(y2, x, n, g2, helpers);
    assert.equal(helpers.sharedSections, 1, 'the GELU must have run on the helper too');
    assert.deepEqual(y2, y1);
    assert.deepEqual(g2, g1);
  } finally {
    helpers.dispose();
  }
});

test('idle helpers stop after their idle time and start again when next needed, with the same bits', async () => {
  const rng = Rng.seeded('threads.test idle');
  const [H, D] = [2, 8];
  const spec: AttnSpec = {
    groups: [
      { p0: 0, S: 6, resp: [4, 3] },
      { p0: 13, S: 5, resp: [2, 4] },
    ],
    causal: true,
    H,
    D,
  };
  const rows = 24;
  const shared = (n: number) => new Float32Array(new SharedArrayBuffer(4 * n));
  const qkv = shared(rows * 3 * H * D);
  for (let i = 0; i < qkv.length; i++) qkv[i] = rng.normal();
  const forward = (h: HelperThreads | null) => {
    const out = shared(rows * H * D);
    attentionForward(out, shared(probsLayout(spec).total), qkv, spec, h);
    return out;
  };
  const helpers = new HelperThreads(1, 150);
  try {
    const one = forward(null);
    assert.ok(await helpers.whenReady(), 'the helper thread did not start');
    assert.deepEqual(forward(helpers), one);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(helpers.idleStops, 1, 'the idle helper was not stopped');
    assert.ok(await helpers.whenReady(), 'the helper thread did not start again');
    assert.deepEqual(forward(helpers), one);
    assert.equal(helpers.sharedSections, 2, 'both sections must have run on a helper');
  } finally {
    helpers.dispose();
  }
});

test("a helper's failure comes back as an error naming the helper, with a short stack (not the bundle's data: URL)", async () => {
  const helpers = new HelperThreads(1);
  try {
    assert.ok(await helpers.whenReady(), 'the helper thread did not start');
    const y = new Float32Array(new SharedArrayBuffer(64));
    assert.throws(
      () =>
        helpers.runShares([1, 1], (_i0, _i1, p) => ({
          // a GELU share whose input is missing: the helper's geluRange throws
          message: { op: 'gelu', y, x: null, gate: null, i0: 0, i1: 4 },
          here: () => assert.equal(p, 0),
        })),
      (err: Error) => {
        assert.match(err.message, /^native helper thread: TypeError/);
        assert.match(err.message, /pgpo-helper\.js/);
        assert.doesNotMatch(err.message, /data:text/);
        assert.ok(err.message.length < 4000, `the message is ${err.message.length} characters long`);
        return true;
      },
    );
  } finally {
    helpers.dispose();
  }
});

test("the helper's bundle holds the native engine's modules only (jax-js would slow every helper's start)", async () => {
  const esbuild = await import('esbuild');
  const out = esbuild.buildSync({
    entryPoints: [join(import.meta.dirname, '..', '..', 'src', 'model', 'native', 'helper-worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(out.metafile.inputs);
  assert.ok(inputs.some((f) => f.endsWith('native/decode.ts')));
  assert.deepEqual(
    inputs.filter((f) => f.includes('node_modules') || f.includes('src/engine/')),
    [],
  );
});

/**
 * Runs `body` in a fresh process with these environment variables (helpers are decided once per
 * process), after a preamble that imports what the bodies use and waits for the helpers; returns
 * the words the body printed.
 */
function inFreshProcess(env: Record<string, string>, body: string): string[] {
  const root = join(import.meta.dirname, '..', '..');
  const from = (path: string) => JSON.stringify(join(root, path));
  const code = `
    const { createHash } = await import('node:crypto');
    const { Rng } = await import(${from('src/engine/rng.ts')});
    const { makeRgbImage } = await import(${from('src/core/image.ts')});
    const { NativePolicy } = await import(${from('src/model/native/policy.ts')});
    const { sharedHelpers } = await import(${from('src/model/native/helper-threads.ts')});
    const helpers = sharedHelpers();
    if (helpers && !(await helpers.whenReady())) throw new Error('the helper thread did not start');
    ${body}
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split(' ');
}

/** A fresh process's fingerprint of a `tiny` policy's scores, gradients and samples. */
function fingerprint(env: Record<string, string>): { hash: string; shared: number; sampling: number; rowSplit: number } {
  const [hash, shared, sampling, rowSplit] = inFreshProcess(
    env,
    `
    const rng = Rng.seeded('threads.test');
    const pol = await NativePolicy.create('tiny', 3);
    const size = pol.config.image.size;
    const prompts = Array.from({ length: 7 }, (_, p) => ({ image: makeRgbImage(size, size, Uint8Array.from({ length: size * size * 3 }, () => rng.int(256))), prompt: pol.encodePrompt('<image>\\nWhat is ' + p + ' plus 2?') }));
    const items = prompts.flatMap((p) => [0, 1].map(() => ({ ...p, response: Array.from({ length: 5 }, () => 4 + rng.int(pol.vocabSize - 4)) })));
    const h = createHash('sha256');
    for (const mode of ['image', 'text-only']) for (const l of (await pol.score(items, { mode })).logp) h.update(new Uint8Array(l.buffer, l.byteOffset, l.byteLength));
    await pol.backward(items, items.map((it) => Float32Array.from(it.response, () => rng.normal())), { mode: 'image' });
    const g = await pol.gradVector();
    h.update(new Uint8Array(g.buffer));
    const before = helpers?.sharedSections ?? 0;
    // 7 x 4 = 28 rows: enough for a step's rows to be cut between the threads at multiples of 12
    for (const r of await pol.sample(prompts, { n: 4, temperature: 1, topP: 1, maxNewTokens: 8, seed: 5 })) h.update(JSON.stringify([r.tokens, Array.from(r.logp)]));
    console.log(h.digest('hex'), helpers?.sharedSections ?? 0, (helpers?.sharedSections ?? 0) - before, helpers?.sectionsByOp.get('decodeRows') ?? 0);`,
  );
  return { hash, shared: Number(shared), sampling: Number(sampling), rowSplit: Number(rowSplit) };
}

/** A fresh process's samples of a `small` policy: 12 prompts x 8 rollouts that end at different steps, so that a step's rows (and their cut) change as they finish. */
function smallSamples(env: Record<string, string>): { hash: string; rowSplit: number } {
  const [hash, rowSplit] = inFreshProcess(
    env,
    `
    const pol = await NativePolicy.create('small', 1);
    const size = pol.config.image.size;
    const rng = Rng.seeded('threads.test small');
    const prompts = Array.from({ length: 12 }, (_, p) => ({ image: makeRgbImage(size, size, Uint8Array.from({ length: size * size * 3 }, () => rng.int(256))), prompt: pol.encodePrompt('<image>\\nWhat is ' + 7 * p + ' plus ' + (p + 3) + '?') }));
    const h = createHash('sha256');
    for (const r of await pol.sample(prompts, { n: 8, temperature: 1, topP: 1, maxNewTokens: 48, seed: 1 })) h.update(JSON.stringify([r.tokens, Array.from(r.logp)]));
    console.log(h.digest('hex'), helpers?.sectionsByOp.get('decodeRows') ?? 0);`,
  );
  return { hash, rowSplit: Number(rowSplit) };
}

test("`small` samples with a helper thread equal those without, as rows finish and the cut moves (its products are large enough for other BLAS kernels than tiny's)", () => {
  const withHelper = smallSamples({ PGPO_THREADS: '2', PGPO_HELPERS: '' });
  const without = smallSamples({ PGPO_THREADS: '2', PGPO_HELPERS: '0' });
  assert.match(withHelper.hash, /^[0-9a-f]{64}$/);
  if (exactRowSplit() !== null) assert.ok(withHelper.rowSplit > 0, "no decode step's rows were split between the threads");
  assert.equal(without.rowSplit, 0);
  assert.equal(withHelper.hash, without.hash);
});

test('a policy with a helper thread gives the same scores, gradients and samples as one without', () => {
  const withHelper = fingerprint({ PGPO_THREADS: '2', PGPO_HELPERS: '' });
  const without = fingerprint({ PGPO_THREADS: '2', PGPO_HELPERS: '0' });
  assert.match(withHelper.hash, /^[0-9a-f]{64}$/);
  assert.ok(withHelper.shared > 0, 'no parallel section ran on the helper');
  assert.ok(withHelper.sampling > 0, 'no decode step ran on the helper');
  if (exactRowSplit() !== null) assert.ok(withHelper.rowSplit > 0, "no decode step's rows were split between the threads");
  assert.equal(without.shared, 0);
  assert.equal(withHelper.hash, without.hash);
});
