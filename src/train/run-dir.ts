/**
 * A training run's directory, the unit a user keeps, resumes and reports on:
 *   config.yaml        the resolved configuration
 *   metrics.jsonl      one JSON object per step
 *   checkpoints/step-000010/   weights, optimizer, trainer state (written to a .tmp name, then renamed)
 *   checkpoints/latest.json    {"step": 10, "dir": "step-000010"} (atomic)
 * Only the last `save_limit` checkpoints are kept. A directory that is not complete is never
 * read: a crash mid-save leaves the previous checkpoint as the latest.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/atomic-write.ts';

export interface CheckpointRef {
  readonly step: number;
  readonly dir: string;
}

const stepDir = (step: number) => `step-${String(step).padStart(6, '0')}`;

/** Metric keys that measure the machine, not the run (wall times, heap size): they differ between identical runs. */
export const isMachineMetric = (key: string): boolean => key.startsWith('time_') || key === 'heap_mib';

/** A metrics record without its machine measurements: what must be identical across a resume. */
export const runMetrics = (m: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(m).filter(([k]) => !isMachineMetric(k)));

export class RunDir {
  readonly checkpoints: string;

  constructor(readonly path: string) {
    this.checkpoints = join(path, 'checkpoints');
  }

  get configPath(): string {
    return join(this.path, 'config.yaml');
  }

  get metricsPath(): string {
    return join(this.path, 'metrics.jsonl');
  }

  /** True if the directory already holds a run (a config or a checkpoint). */
  holdsRun(): boolean {
    return existsSync(this.configPath) || this.latest() !== null;
  }

  init(configYaml: string): void {
    mkdirSync(this.checkpoints, { recursive: true });
    writeFileAtomic(this.configPath, configYaml);
    if (!existsSync(this.metricsPath)) writeFileSync(this.metricsPath, '');
  }

  appendMetrics(record: Record<string, unknown>): void {
    appendFileSync(this.metricsPath, JSON.stringify(record) + '\n');
  }

  readMetrics(): Array<Record<string, unknown>> {
    if (!existsSync(this.metricsPath)) return [];
    return readFileSync(this.metricsPath, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return []; // a line cut by a crash mid-write
        }
      });
  }

  /** Seconds the run's steps took: the sum of `time_step` over metrics.jsonl (what an adopted base reports). */
  secondsOfSteps(): number {
    return this.readMetrics().reduce((a, m) => a + (typeof m.time_step === 'number' && Number.isFinite(m.time_step) ? m.time_step : 0), 0);
  }

  /** On resume: drop metric lines of steps after the checkpoint (they will be recomputed). */
  truncateMetrics(lastStep: number): void {
    const keep = this.readMetrics().filter((m) => typeof m.step === 'number' && m.step <= lastStep);
    writeFileAtomic(this.metricsPath, keep.map((m) => JSON.stringify(m) + '\n').join(''));
  }

  /**
   * Writes a checkpoint: `write(dir)` fills a temporary directory, which is then renamed into
   * place; latest.json is updated atomically; older checkpoints beyond `keep` are removed.
   */
  async saveCheckpoint(step: number, keep: number, write: (dir: string) => void | Promise<void>): Promise<CheckpointRef> {
    mkdirSync(this.checkpoints, { recursive: true });
    const name = stepDir(step);
    const tmp = join(this.checkpoints, `.${name}.tmp`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    await write(tmp);
    const final = join(this.checkpoints, name);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    writeFileAtomic(join(this.checkpoints, 'latest.json'), JSON.stringify({ step, dir: name }) + '\n');
    this.prune(keep);
    return { step, dir: final };
  }

  /** Completed checkpoints, oldest first. */
  list(): CheckpointRef[] {
    if (!existsSync(this.checkpoints)) return [];
    return readdirSync(this.checkpoints)
      .filter((n) => /^step-\d{6,}$/.test(n))
      .map((n) => ({ step: Number(n.slice(5)), dir: join(this.checkpoints, n) }))
      .sort((a, b) => a.step - b.step);
  }

  latest(): CheckpointRef | null {
    const pointer = join(this.checkpoints, 'latest.json');
    if (existsSync(pointer)) {
      try {
        const { dir, step } = JSON.parse(readFileSync(pointer, 'utf8')) as { dir: string; step: number };
        const full = join(this.checkpoints, dir);
        if (existsSync(full)) return { step, dir: full };
      } catch {
        // fall through to scanning
      }
    }
    const all = this.list();
    return all.length ? all[all.length - 1] : null;
  }

  private prune(keep: number): void {
    const all = this.list();
    for (const c of all.slice(0, Math.max(0, all.length - keep))) rmSync(c.dir, { recursive: true, force: true });
  }
}
