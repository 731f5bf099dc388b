/**
 * The format reward: does a response follow the house format `<think>…</think> \boxed{…}`?
 * As EasyR1's math reward: the response (trimmed) opens with `<think>`, closes it once, and a
 * complete `\boxed{…}` follows the closing tag. Stricter in one respect: exactly one `<think>`
 * and one `</think>`, so a response cannot nest or repeat reasoning blocks for free.
 */
import { lastBoxed } from './extract.ts';

const OPEN = '<think>';
const CLOSE = '</think>';

export function formatOk(response: string): boolean {
  const s = response.trim();
  if (!s.startsWith(OPEN)) return false;
  const close = s.indexOf(CLOSE, OPEN.length);
  if (close < 0) return false;
  if (s.indexOf(OPEN, OPEN.length) >= 0 || s.indexOf(CLOSE, close + CLOSE.length) >= 0) return false;
  return lastBoxed(s, close + CLOSE.length) !== null;
}
