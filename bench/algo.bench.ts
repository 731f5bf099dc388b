/**
 * `npm run bench:algo`: throughput of the algorithm layer's hot paths, printed as a markdown
 * table — batch reshaping (advantages + k3 + weights) and the exact KL at two vocabulary sizes
 * (64, our compact model; 151,936, Qwen2.5-VL). Inputs come from a seeded generator.
 */
import { cpus } from 'node:os';
import { exactKl, reshapeBatch, type RolloutRecord } from '../src/algo/index.ts';
import { Rng } from '../src/engine/rng.ts';

function time(fn: () => void, minMs = 1500): { perCallMs: number; calls: number } {
  fn(); // warm-up (JIT)
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < minMs) {
    fn();
    calls++;
  }
  return { perCallMs: (performance.now() - start) / calls, calls };
}

const rng = Rng.seeded('bench:algo');
const rows: string[] = [];
const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(1));

// reshaping: 512 responses x 256 tokens (groups of 8)
{
  const responses = 512;
  const T = 256;
  const records: RolloutRecord[] = Array.from({ length: responses }, (_, i) => {
    const logpImage = new Float64Array(T);
    const logpText = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      logpImage[t] = -Math.abs(rng.normal()) * 0.5;
      logpText[t] = logpImage[t] - (rng.bool(0.1) ? Math.abs(rng.normal()) * 3 : Math.abs(rng.normal()) * 0.05);
    }
    return { group: Math.floor(i / 8), reward: rng.bool(0.5) ? 1 : 0, logpImage, logpText };
  });
  const { perCallMs } = time(() => reshapeBatch(records));
  rows.push(`| reshapeBatch (grpo + k3 + pgpo), ${responses} x ${T} tokens | ${perCallMs.toFixed(2)} ms | ${fmt((responses * T) / (perCallMs / 1000))} tokens/s |`);
}

for (const V of [64, 151_936]) {
  const T = V === 64 ? 4096 : 16;
  const p = new Float32Array(T * V);
  const q = new Float32Array(T * V);
  for (let k = 0; k < p.length; k++) {
    p[k] = rng.normal() * 2;
    q[k] = p[k] + rng.normal() * 0.3;
  }
  const { perCallMs } = time(() => {
    for (let t = 0; t < T; t++) exactKl(p.subarray(t * V, (t + 1) * V), q.subarray(t * V, (t + 1) * V));
  });
  rows.push(`| exact KL, vocabulary ${V.toLocaleString('en')}, ${T} rows | ${perCallMs.toFixed(2)} ms | ${fmt(T / (perCallMs / 1000))} tokens/s |`);
}

console.log(`pgpo bench:algo — node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, single thread\n`);
console.log('| hot path | time per call | throughput |');
console.log('|---|---|---|');
for (const r of rows) console.log(r);
