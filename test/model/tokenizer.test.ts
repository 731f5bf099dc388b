import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer, BOS, EOS, PAD, IMAGE, SPECIALS } from '../../src/model/tokenizer.ts';
import { DEFAULT_PIECES } from '../../src/model/tokenizer.ts';

const tok = Tokenizer.fromPieces(DEFAULT_PIECES);

test('specials come first, every printable ASCII character and newline is a token', () => {
  assert.deepEqual(tok.vocab.slice(0, 4), [...SPECIALS]);
  assert.deepEqual([PAD, BOS, EOS, IMAGE], [0, 1, 2, 3]);
  const all = '\n' + Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
  assert.equal(tok.decode(tok.encode(all)), all);
});

test('pieces are matched longest first, digits one at a time', () => {
  const text = '<think>A=50 B=60 180-50-60=70</think> \\boxed{70}';
  const ids = tok.encode(text);
  assert.equal(tok.decode(ids), text);
  assert.equal(tok.vocab[ids[0]], '<think>');
  assert.ok(ids.map((i) => tok.vocab[i]).includes('</think> \\boxed{'));
  assert.ok(ids.length < 30, `${ids.length} tokens`);
  for (const d of '0123456789') assert.deepEqual(tok.encode(d), [tok.vocab.indexOf(d)]);
});

test('decode drops specials; unknown characters and ids are errors that say where', () => {
  assert.equal(tok.decode([BOS, ...tok.encode('hi'), EOS, PAD]), 'hi');
  assert.throws(() => tok.encode('a\u00e9'), /character "é" \(U\+00e9\) at offset 1/);
  assert.throws(() => tok.decode([9999]), /id 9999 is outside the vocabulary/);
});

test('fromVocab rebuilds the same tokenizer and rejects a malformed vocabulary', () => {
  const again = Tokenizer.fromVocab(tok.vocab);
  assert.deepEqual(again.encode('How many red circles are there?'), tok.encode('How many red circles are there?'));
  assert.throws(() => Tokenizer.fromVocab(['<bos>', ...tok.vocab.slice(1)]), /must start with/);
  assert.throws(() => Tokenizer.fromVocab(tok.vocab.filter((s) => s !== 'x')), /lacks the character "x"/);
});
