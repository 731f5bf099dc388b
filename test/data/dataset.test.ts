/**
 * EasyR1-format datasets: parquet <-> JSONL round trips that keep every pixel, every image
 * form EasyR1 allows (path, bytes, {bytes}, {path}), configurable keys, and malformed files
 * rejected with the file, row and field named.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeImage, encodePng, loadDataset, readDataset, writeDataset, DatasetError, type LoadedExample } from '../../src/data/index.ts';
import { instanceRow } from '../../src/data/generated.ts';
import { generateSuite } from '../../src/tasks/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'pgpo-dataset-'));
const suite = generateSuite({ n: 12, seed: 5 });
const rows = suite.map(instanceRow);

function sameExamples(a: readonly LoadedExample[], b: readonly LoadedExample[]): void {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => {
    assert.equal(x.problem, b[i].problem);
    assert.equal(x.answer, b[i].answer);
    assert.equal(x.family, b[i].family);
    assert.equal(x.variant, b[i].variant);
    assert.equal(x.solution, b[i].solution);
    assert.deepEqual(x.image.data, b[i].image.data);
  });
}

/** Expects `fn` to reject with a DatasetError whose message names these parts. */
async function rejectsWith(fn: () => Promise<unknown>, ...parts: RegExp[]): Promise<void> {
  await assert.rejects(fn, (err: unknown) => {
    assert.ok(err instanceof DatasetError, `not a DatasetError: ${err}`);
    for (const p of parts) assert.match(err.message, p);
    return true;
  });
}

const png = await encodePng(suite[0].image);

describe('datasets', () => {
  it('parquet and JSONL hold the same examples, pixel for pixel', async () => {
    await writeDataset(join(dir, 'a.parquet'), rows);
    await writeDataset(join(dir, 'a.jsonl'), rows);
    const fromParquet = await loadDataset(join(dir, 'a.parquet'));
    const fromJsonl = await loadDataset(join(dir, 'a.jsonl'));
    sameExamples(fromParquet, fromJsonl);
    fromParquet.forEach((x, i) => {
      assert.deepEqual(x.image.data, suite[i].image.data);
      assert.equal(x.family, suite[i].family);
    });
  });

  it('round-trips parquet -> JSONL -> parquet', async () => {
    const a = await loadDataset(join(dir, 'a.parquet'));
    const toRow = (x: LoadedExample) => ({ problem: x.problem, answer: x.answer, images: [x.image], extra: { family: x.family!, variant: x.variant!, solution: x.solution! } });
    await writeDataset(join(dir, 'b.jsonl'), a.map(toRow));
    const b = await loadDataset(join(dir, 'b.jsonl'));
    await writeDataset(join(dir, 'c.parquet'), b.map(toRow));
    sameExamples(a, await loadDataset(join(dir, 'c.parquet')));
    sameExamples(a, b);
  });

  it('resizes to the requested image size', async () => {
    const [x] = await loadDataset(join(dir, 'a.parquet'), { imageSize: 32 });
    assert.equal(x.image.width, 32);
    assert.equal(x.image.data.length, 32 * 32 * 3);
  });

  it('accepts images as a path, base64 bytes, a byte array, {bytes} and {path}, under custom keys', async () => {
    writeFileSync(join(dir, 'img.png'), png);
    const forms = ['img.png', { path: 'img.png' }, { bytes: png.toString('base64') }, [...png], { bytes: [...png] }, join(dir, 'img.png')];
    const lines = forms.map((f) => JSON.stringify({ question: 'Q <image>', gold: 3, pics: [f] }));
    writeFileSync(join(dir, 'forms.jsonl'), lines.join('\n') + '\n');
    const got = await loadDataset(join(dir, 'forms.jsonl'), { promptKey: 'question', answerKey: 'gold', imageKey: 'pics' });
    assert.equal(got.length, forms.length);
    for (const x of got) {
      assert.equal(x.answer, '3');
      assert.deepEqual(x.image.data, suite[0].image.data);
    }
  });

  it('reads rows with several images when each has its marker', async () => {
    writeFileSync(join(dir, 'two.jsonl'), JSON.stringify({ problem: '<image> vs <image>', answer: 'A', images: ['img.png', 'img.png'] }) + '\n');
    const [r] = await readDataset(join(dir, 'two.jsonl'));
    assert.equal(r.images.length, 2);
    // ...but the model takes one image per problem.
    await rejectsWith(() => loadDataset(join(dir, 'two.jsonl')), /two\.jsonl: row 1, field images: .*exactly one image/);
  });

  it('decodes with sharp: alpha flattened on white, any size', async () => {
    const img = await decodeImage(png);
    assert.equal(img.width, 48);
    const small = await decodeImage(png, 7);
    assert.equal(small.data.length, 7 * 7 * 3);
  });

  describe('rejects malformed files, naming file, row and field', () => {
    const bad = (name: string, lines: unknown[]) => {
      const path = join(dir, name);
      writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
      return path;
    };
    const ok = { problem: '<image>Q', answer: '1', images: ['img.png'] };

    it('a missing key', async () => {
      await rejectsWith(() => readDataset(bad('m1.jsonl', [ok, { answer: '1', images: [] }])), /m1\.jsonl: row 2, field problem: missing/);
      await rejectsWith(() => readDataset(bad('m2.jsonl', [{ problem: '<image>', images: ['img.png'] }])), /row 1, field answer: missing/);
      await rejectsWith(() => readDataset(bad('m3.jsonl', [{ problem: 'Q', answer: '1' }])), /row 1, field images: missing/);
    });
    it('a wrong type', async () => {
      await rejectsWith(() => readDataset(bad('t1.jsonl', [{ ...ok, problem: 5 }])), /field problem: expected a string/);
      await rejectsWith(() => readDataset(bad('t2.jsonl', [{ ...ok, images: [42] }])), /field images\[0\]: expected an image path/);
      await rejectsWith(() => readDataset(bad('t3.jsonl', [{ ...ok, images: [{}] }])), /field images\[0\]: an image object needs bytes or a path/);
      await rejectsWith(() => readDataset(bad('t4.jsonl', ['[1,2]'])), /row 1: expected an object/);
    });
    it('more images than <image> markers, or fewer', async () => {
      await rejectsWith(() => readDataset(bad('k1.jsonl', [ok, ok, { ...ok, images: ['img.png', 'img.png'] }])), /k1\.jsonl: row 3, field images: 2 image\(s\) but the problem has 1 <image> marker/);
      await rejectsWith(() => readDataset(bad('k2.jsonl', [{ ...ok, problem: '<image><image>' }])), /row 1, field problem: 2 <image> marker\(s\) but only 1/);
    });
    it('an unreadable or missing image', async () => {
      await rejectsWith(
        () => loadDataset(bad('u1.jsonl', [ok, { ...ok, images: [{ bytes: Buffer.from('not an image').toString('base64') }] }])),
        /u1\.jsonl: row 2, field images\[0\]: unreadable image/,
      );
      await rejectsWith(() => loadDataset(bad('u2.jsonl', [{ ...ok, images: ['nope.png'] }])), /row 1, field images\[0\]: unreadable image .*nope\.png/);
    });
    it('an image path outside the dataset folder (unless data.image_root allows it), not a regular file, or too large', async () => {
      const outer = mkdtempSync(join(tmpdir(), 'pgpo-dataset-outer-'));
      const inner = join(outer, 'data');
      mkdirSync(inner);
      writeFileSync(join(outer, 'outside.png'), png);
      const file = (name: string, image: string) => {
        writeFileSync(join(inner, name), JSON.stringify({ ...ok, images: [image] }) + '\n');
        return join(inner, name);
      };
      await rejectsWith(
        () => loadDataset(file('up.jsonl', '../outside.png')),
        /up\.jsonl: row 1, field images\[0\]: unreadable image .*outside\.png is outside .*data; image paths resolve inside the dataset's folder \(data\.image_root/,
      );
      await rejectsWith(() => loadDataset(file('abs.jsonl', '/etc/passwd')), /\/etc\/passwd is outside/);
      symlinkSync(join(outer, 'outside.png'), join(inner, 'link.png'));
      await rejectsWith(() => loadDataset(file('link.jsonl', 'link.png')), /link\.png is outside/);
      // allowed explicitly: the same rows load
      assert.equal((await loadDataset(join(inner, 'up.jsonl'), { imageRoot: outer })).length, 1);
      assert.equal((await loadDataset(join(inner, 'link.jsonl'), { imageRoot: outer })).length, 1);
      await rejectsWith(() => loadDataset(file('dev.jsonl', '/dev/zero'), { imageRoot: '/' }), /\/dev\/zero is not a regular file/);
      mkdirSync(join(inner, 'sub.png'));
      await rejectsWith(() => loadDataset(file('dir.jsonl', 'sub.png')), /sub\.png is not a regular file/);
      // a sparse file past the limit: refused by its size, never read
      const huge = join(inner, 'huge.png');
      writeFileSync(huge, '');
      truncateSync(huge, 65 * 2 ** 20);
      await rejectsWith(() => loadDataset(file('huge.jsonl', 'huge.png')), /huge\.png is 68157440 bytes, over the 67108864-byte limit/);
    });
    it('a parquet file without the expected column', async () => {
      await writeDataset(join(dir, 'keys.parquet'), rows.slice(0, 2), { promptKey: 'question' });
      await rejectsWith(() => readDataset(join(dir, 'keys.parquet')), /keys\.parquet: row 1, field problem: missing/);
      assert.equal((await readDataset(join(dir, 'keys.parquet'), { promptKey: 'question' })).length, 2);
    });
    it('broken JSON and broken parquet', async () => {
      await rejectsWith(() => readDataset(bad('j.jsonl', [ok, '{"problem": '])), /j\.jsonl: row 2: not valid JSON/);
      writeFileSync(join(dir, 'x.parquet'), 'PAR1 this is not parquet');
      await rejectsWith(() => readDataset(join(dir, 'x.parquet')), /x\.parquet: not a readable parquet file/);
      await rejectsWith(() => readDataset(join(dir, 'missing.parquet')), /missing\.parquet: cannot read: ENOENT/);
      await rejectsWith(() => readDataset(join(dir, 'data.csv')), /unknown dataset format "\.csv"/);
    });
  });
});
