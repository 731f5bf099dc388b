/**
 * Crash-safe file writes: write to a temporary name in the same directory, fsync, then
 * rename over the target (atomic on POSIX). A reader sees the old file or the new one, never
 * half of one; if anything fails, the temporary file is removed.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * mkdir -p, one level at a time. Node's `mkdirSync(dir, { recursive: true })` never returns for
 * some paths under /proc (it retries the ENOENT forever); one mkdir per missing level fails at once.
 */
export function ensureDir(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) ensureDir(parent);
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const dir = dirname(path);
  ensureDir(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx'); // never through a file or link planted at the temporary name
    const chunks = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    // the error names the file asked for, not the temporary name the user never gave
    const e = err as NodeJS.ErrnoException & { dest?: string };
    if (e.path === tmp) {
      e.path = path;
      e.syscall = 'write';
      delete e.dest;
    }
    throw err;
  }
}
