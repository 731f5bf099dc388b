/** HTML/SVG text and attribute escaping: everything a run wrote passes through here before the page. */

const MAP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an element body or a double- or single-quoted attribute. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => MAP[c]);
}

/** A `data:image/png;base64,...` URI, or null when the payload is not base64 of a PNG (never injected raw). */
export function pngDataUri(base64: string): string | null {
  const b = base64.replace(/\s+/g, '');
  if (b.length === 0 || b.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b) || !b.startsWith('iVBORw0KGgo')) return null;
  return `data:image/png;base64,${b}`;
}
