import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors, readSafetensors, encodeSafetensors, decodeSafetensors } from '../../src/engine/safetensors.ts';

const tensors = (): [string, { shape: number[]; data: Float32Array }][] => [
  ['a.w', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, NaN, Infinity, -0]) }],
  ['b', { shape: [1], data: Float32Array.from([1e-30]) }],
];
const expect = new Map([
  ['a.w', [2, 3]],
  ['b', [1]],
]);

test('write then read is bit-exact, leaves no temporary file, header is 8-byte aligned', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const path = join(dir, 'x.safetensors');
  writeSafetensors(path, tensors(), { note: 'hi' });
  assert.deepEqual(readdirSync(dir), ['x.safetensors']);
  const buf = readFileSync(path);
  assert.equal(Number(buf.readBigUInt64LE(0)) % 8, 0);
  const f = readSafetensors(path, { expect });
  assert.deepEqual(f.metadata, { note: 'hi' });
  for (const [n, t] of tensors()) {
    const got = f.tensors.get(n)!;
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual(new Uint8Array(got.data.buffer), new Uint8Array(t.data.buffer));
  }
});

function bytes(): Buffer {
  return Buffer.concat(encodeSafetensors(tensors()));
}

test('rejects truncated files', () => {
  const b = bytes();
  assert.throws(() => decodeSafetensors(b.subarray(0, 5), 'f'), /truncated/);
  assert.throws(() => decodeSafetensors(b.subarray(0, 20), 'f'), /bad header length/);
  assert.throws(() => decodeSafetensors(b.subarray(0, b.length - 2), 'f'), /tensor 'b' ends at byte .* \(truncated file\)/);
});

test('rejects a flipped data byte, naming the tensor', () => {
  const b = bytes();
  b[b.length - 1] ^= 0x40;
  assert.throws(() => decodeSafetensors(b, 'f'), /tensor 'b' is corrupted/);
});

test('rejects a bad header, a wrong dtype, a wrong shape, missing and unexpected tensors', () => {
  const b = bytes();
  const bad = Buffer.from(b);
  bad[8] = 0x7b + 1; // '{' -> '|'
  assert.throws(() => decodeSafetensors(bad, 'f'), /not valid JSON/);
  const len = Number(b.readBigUInt64LE(0));
  const edit = (fn: (h: Record<string, any>) => void) => {
    const h = JSON.parse(b.subarray(8, 8 + len).toString());
    fn(h);
    const head = Buffer.from(JSON.stringify(h));
    const l = Buffer.alloc(8);
    l.writeBigUInt64LE(BigInt(head.length));
    return Buffer.concat([l, head, b.subarray(8 + len)]);
  };
  assert.throws(
    () =>
      decodeSafetensors(
        edit((h) => (h['a.w'].dtype = 'F16')),
        'f',
      ),
    /tensor 'a.w' has dtype "F16", expected "F32"/,
  );
  assert.throws(
    () =>
      decodeSafetensors(
        edit((h) => (h['a.w'].shape = [3, 3])),
        'f',
      ),
    /tensor 'a.w': shape \[3,3\] needs 36 bytes/,
  );
  assert.throws(
    () =>
      decodeSafetensors(b, 'f', {
        expect: new Map([
          ['a.w', [3, 2]],
          ['b', [1]],
        ]),
      }),
    /tensor 'a.w' has shape \[2,3\], expected \[3,2\]/,
  );
  assert.throws(
    () =>
      decodeSafetensors(b, 'f', {
        expect: new Map([
          ['a.w', [2, 3]],
          ['b', [1]],
          ['c', [1]],
        ]),
      }),
    /tensor 'c' is missing/,
  );
  assert.throws(() => decodeSafetensors(b, 'f', { expect: new Map([['a.w', [2, 3]]]) }), /unexpected tensor 'b'/);
  const p = join(mkdtempSync(join(tmpdir(), 'st-')), 'y.safetensors');
  writeFileSync(p, b.subarray(0, 100));
  assert.throws(() => readSafetensors(p), new RegExp(p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
});
