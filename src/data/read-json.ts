/**
 * Reading a JSON file written by pgpo (an eval.json, a compare.json) and validating it: one shape
 * for every reader, each naming the file and what is wrong in its own error type.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/**
 * The file's JSON, validated by `schema`. A file that is not JSON or does not fit throws
 * `fail(detail)`, the detail saying which (`describe` words a schema failure).
 */
export function readJsonFile<T>(file: string, schema: z.ZodType<T>, fail: (detail: string) => Error, describe: (err: z.ZodError) => string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw fail(`not valid JSON (${(err as Error).message})`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw fail(describe(r.error));
  return r.data;
}
