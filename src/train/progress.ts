/**
 * Progress of a long job: on a terminal, one self-rewriting line with a bar, the ETA and the
 * live numbers; elsewhere (CI, a pipe, a log file), one plain line per update. The clock is
 * injected so tests can drive it.
 */

export interface ProgressOptions {
  readonly total: number;
  readonly label: string;
  /** Where to write; defaults to stderr. */
  readonly stream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Milliseconds since an arbitrary origin; defaults to performance.now. */
  readonly now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class Progress {
  private readonly start: number;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly now: () => number;
  private readonly tty: boolean;
  private lastLineLength = 0;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.tty = Boolean(this.stream.isTTY) && process.env.CI !== 'true';
  }

  /** Marks `done` of `total` complete; `fields` are shown as key=value. */
  update(done: number, fields: Record<string, string | number> = {}): void {
    const elapsed = (this.now() - this.start) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.options.total - done) : NaN;
    const parts = Object.entries(fields).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`);
    const status = `${this.options.label} ${done}/${this.options.total}  ${parts.join('  ')}  elapsed ${formatDuration(elapsed)}  eta ${formatDuration(eta)}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((width * done) / Math.max(1, this.options.total));
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${status}`;
      const cols = (this.stream as { columns?: number }).columns ?? 120;
      const shown = line.length > cols - 1 ? line.slice(0, cols - 1) : line;
      this.stream.write(`\r${shown}${' '.repeat(Math.max(0, this.lastLineLength - shown.length))}`);
      this.lastLineLength = shown.length;
    } else {
      this.stream.write(status + '\n');
    }
  }

  /** Ends the self-rewriting line (no-op for plain output). */
  finish(): void {
    if (this.tty && this.lastLineLength > 0) this.stream.write('\n');
    this.lastLineLength = 0;
  }

  /** Prints a message without breaking the bar. */
  log(message: string): void {
    if (this.tty && this.lastLineLength > 0) {
      this.stream.write(`\r${' '.repeat(this.lastLineLength)}\r`);
      this.lastLineLength = 0;
    }
    this.stream.write(message + '\n');
  }
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
}
