/**
 * The safetensors file format, written and read by hand (float32 tensors only): an 8-byte
 * little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
 * then the raw little-endian data. Readers elsewhere (Python `safetensors`) can open our files.
 *
 * The format has no checksum, so we add one per tensor (SHA-256, in `__metadata__`, whose values
 * must be strings): a flipped byte is then caught and the error names the tensor it hit. Every
 * check fails with an `Error` that says which file and which tensor, and what was expected.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../data/atomic-write.ts';

export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const CHECKSUM_PREFIX = 'sha256:';
/** A header larger than this is certainly corrupt (ours are a few KB). */
const MAX_HEADER = 64 * 1024 * 1024;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function bytesOf(t: Float32Array): Uint8Array {
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

/** The file's bytes: header length, header, data (tensors in the given order). */
export function encodeSafetensors(tensors: Iterable<[string, HostTensor]>, metadata: Record<string, string> = {}): Uint8Array[] {
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = { ...metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" is not a valid tensor name');
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: tensor '${name}' has shape [${t.shape}] (${n} values) but ${t.data.length} values`);
    const bytes = bytesOf(t.data);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    meta[CHECKSUM_PREFIX + name] = sha256(bytes);
    chunks.push(bytes);
    offset += bytes.length;
  }
  header.__metadata__ = meta;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // the spec pads the header to 8 bytes
  const head = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  return [len, head, ...chunks];
}

/** Writes a safetensors file atomically (temporary name, fsync, rename). */
export function writeSafetensors(path: string, tensors: Iterable<[string, HostTensor]>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export interface ReadOptions {
  /** If given, the file must hold exactly these tensors with exactly these shapes. */
  readonly expect?: ReadonlyMap<string, readonly number[]>;
  /** Names in `expect` the file may lack (a parameter added after the file was written). */
  readonly optional?: ReadonlySet<string>;
}

export interface SafetensorsFile {
  readonly tensors: Map<string, HostTensor>;
  /** User metadata (checksums removed). */
  readonly metadata: Record<string, string>;
}

/** Parses and validates a safetensors file's bytes; `where` names it in errors. */
export function decodeSafetensors(buf: Uint8Array, where: string, opts: ReadOptions = {}): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (buf.length < 8) fail(`truncated: ${buf.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > buf.length) {
    fail(`bad header length ${headerLen} for a ${buf.length}-byte file (truncated or not a safetensors file)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, headerLen).toString('utf8'));
  } catch (err) {
    return fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const rawMeta = (header.__metadata__ ?? {}) as Record<string, unknown>;
  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const tensors = new Map<string, HostTensor>();
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32') fail(`tensor '${name}' has dtype ${JSON.stringify(e.dtype)}, expected "F32"`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}' has a bad shape ${JSON.stringify(shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[1] < offs[0]) {
      fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== n * 4) fail(`tensor '${name}': shape [${shape}] needs ${n * 4} bytes but data_offsets span ${end - begin}`);
    if (end > dataLen) fail(`tensor '${name}' ends at byte ${end} but the data section has ${dataLen} bytes (truncated file)`);
    const bytes = buf.subarray(dataStart + begin, dataStart + end);
    const want = rawMeta[CHECKSUM_PREFIX + name];
    if (want !== undefined && sha256(bytes) !== want) fail(`tensor '${name}' is corrupted (checksum mismatch)`);
    // Copy into an aligned buffer: the data section need not be 4-byte aligned in memory.
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(bytes);
    tensors.set(name, { shape: shape as number[], data });
    ranges.push([begin, end, name]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end, name] of ranges) {
    if (begin !== at) fail(`tensor '${name}' starts at byte ${begin}, expected ${at} (data section has gaps or overlaps)`);
    at = end;
  }
  if (at !== dataLen) fail(`data section has ${dataLen} bytes but the tensors cover ${at}`);
  if (opts.expect) {
    for (const [name, shape] of opts.expect) {
      const t = tensors.get(name);
      if (!t) {
        if (!opts.optional?.has(name)) fail(`tensor '${name}' is missing`);
      } else if (t.shape.join(',') !== shape.join(',')) fail(`tensor '${name}' has shape [${t.shape}], expected [${shape}]`);
    }
    for (const name of tensors.keys()) if (!opts.expect.has(name)) fail(`unexpected tensor '${name}'`);
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawMeta)) if (!k.startsWith(CHECKSUM_PREFIX)) metadata[k] = String(v);
  return { tensors, metadata };
}

export function readSafetensors(path: string, opts: ReadOptions = {}): SafetensorsFile {
  return decodeSafetensors(readFileSync(path), path, opts);
}
