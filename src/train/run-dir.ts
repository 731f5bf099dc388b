/**
 * A training run's directory, the unit a user keeps, resumes and reports on:
 *   config.yaml        the resolved configuration
 *   metrics.jsonl      one JSON object per step
 *   checkpoints/step-000010/   weights, optimizer, trainer state (written to a .tmp name, then renamed)
 *   checkpoints/latest.json    {"step": 10, "dir": "step-000010"} (atomic)
 *   run.json           {"kind": "rl", "engine": "..."}: what made the run, so no other command
 *                      continues it, and the engine computing it (a resume on another says so)
 *   lock               the live process that owns the run ({"pid", "host", "since"})
 * Only the last `save_limit` checkpoints are kept. A directory that is not complete is never
 * read: a crash mid-save leaves the previous checkpoint as the latest.
 */
import { closeSync, constants, existsSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ensureDir, writeFileAtomic } from '../data/atomic-write.ts';

export const RUN_KINDS = ['sft', 'rl', 'eval', 'compare'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** A run folder that cannot be used as asked. exitCode 2: the command's input; 1: the machine's state (another process holds it). */
export class RunDirError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'RunDirError';
  }
}

/** The command that continues each kind of run (for messages). */
const RESUME_COMMAND: Record<RunKind, string> = { sft: 'pgpo sft --resume', rl: 'pgpo train --resume', eval: 'pgpo eval', compare: 'pgpo compare --out' };

const runFileSchema = z.object({ kind: z.enum(RUN_KINDS), engine: z.string().optional() });
const lockSchema = z.object({ pid: z.number().int().positive(), host: z.string(), since: z.string() });
type LockHolder = z.infer<typeof lockSchema>;

/** Entries a run writes to: none may be a symlink, or a write would land outside the run folder. */
const OWNED_ENTRIES = ['config.yaml', 'metrics.jsonl', 'run.json', 'lock', 'checkpoints', 'rollouts', 'tokens'] as const;

/** The live process a lock file names, or null when it names none (unreadable, or cut short). */
function readLock(path: string): LockHolder | null {
  try {
    const parsed = lockSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Whether the process holding a lock may still run: another host's cannot be checked, so it counts as alive. */
function holderAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held lock; `note` says when it was taken over from a process that no longer runs. */
export interface RunLock {
  readonly note: string | null;
  release(): void;
}

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

  get kindPath(): string {
    return join(this.path, 'run.json');
  }

  get lockPath(): string {
    return join(this.path, 'lock');
  }

  /** True if the directory already holds a run (a config, a recorded kind or a checkpoint). */
  holdsRun(): boolean {
    return existsSync(this.configPath) || existsSync(this.kindPath) || this.latest() !== null;
  }

  /**
   * What made the run: run.json, or for a run from before run.json its latest checkpoint's
   * trainer.json (RL's counts non-finite steps, SFT's does not); null when neither says.
   */
  kind(): RunKind | null {
    if (existsSync(this.kindPath)) {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(this.kindPath, 'utf8'));
      } catch {
        throw new RunDirError(`${this.kindPath}: not valid JSON; it should read {"kind": "sft"} or {"kind": "rl"}: rewrite it, or choose another folder`);
      }
      const parsed = runFileSchema.safeParse(raw);
      if (!parsed.success) throw new RunDirError(`${this.kindPath}: "kind" must be one of ${RUN_KINDS.join(', ')}, got ${JSON.stringify((raw as { kind?: unknown })?.kind)}`);
      return parsed.data.kind;
    }
    const latest = this.latest();
    if (!latest) return null;
    try {
      const state = JSON.parse(readFileSync(join(latest.dir, 'trainer.json'), 'utf8')) as Record<string, unknown>;
      return 'nonfiniteInRow' in state ? 'rl' : 'sft';
    } catch {
      return null;
    }
  }

  /**
   * Takes the run for this process: no symlinked entry (writes would leave the folder), the lock
   * (a live holder is an error naming it; a dead one's is taken over with a note), and a kind,
   * if the run has one, that is `kind`. The lock is released if the kind is not.
   */
  claim(kind: RunKind): RunLock {
    this.refuseSymlinks();
    const lock = this.lock();
    try {
      this.checkKind(kind);
    } catch (err) {
      lock.release();
      throw err;
    }
    return lock;
  }

  /** An error naming both kinds and the command that continues the run, if it is not a `kind` run. */
  checkKind(kind: RunKind): void {
    const held = this.kind();
    if (held === null || held === kind) return;
    const a = (k: RunKind) => (k === 'compare' ? 'a' : 'an');
    throw new RunDirError(
      `${this.path} holds ${a(held)} ${held} run (${existsSync(this.kindPath) ? this.kindPath : 'its checkpoints'}), not ${a(kind)} ${kind} one: continue it with \`${RESUME_COMMAND[held]} ${this.path}\`, or give another folder`,
    );
  }

  /** Records the run's kind (a run from before run.json gets one when it is resumed). */
  recordKind(kind: RunKind): void {
    if (!existsSync(this.kindPath)) writeFileAtomic(this.kindPath, JSON.stringify({ kind }) + '\n');
  }

  /** The engine that computed the run so far (Policy.engine, in run.json), or null if none was recorded (a run from before it was). */
  engine(): string | null {
    if (!existsSync(this.kindPath)) return null;
    const parsed = runFileSchema.safeParse(JSON.parse(readFileSync(this.kindPath, 'utf8')));
    return parsed.success ? (parsed.data.engine ?? null) : null;
  }

  /** Records the engine that computes the run from now on (run.json must exist: recordKind first). */
  recordEngine(engine: string): void {
    const run = runFileSchema.parse(JSON.parse(readFileSync(this.kindPath, 'utf8')));
    writeFileAtomic(this.kindPath, JSON.stringify({ ...run, engine }) + '\n');
  }

  /** A run entry that is a symlink is refused: appending or renaming through it would write elsewhere. */
  refuseSymlinks(): void {
    for (const name of OWNED_ENTRIES) {
      const p = join(this.path, name);
      let link = false;
      try {
        link = lstatSync(p).isSymbolicLink();
      } catch {
        continue; // absent
      }
      if (link) throw new RunDirError(`${p} is a symbolic link; a run writes only inside its own folder: replace it by the file it points to, or choose another folder`);
    }
  }

  /**
   * The folder's exclusive lock. The lock file is complete before it appears (written aside, then
   * hard-linked: link fails if the name exists), so a reader never mistakes a lock being written
   * for a stale one.
   */
  lock(): RunLock {
    ensureDir(this.path);
    if (!statSync(this.path).isDirectory()) throw new RunDirError(`${this.path} is a file, not a run folder: give a folder path (new or holding a run)`);
    const path = this.lockPath;
    const mine: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    const busy = (h: LockHolder) =>
      new RunDirError(`${this.path} is in use by process ${h.pid} on ${h.host} (since ${h.since}): wait for it to end or stop it; if no such process runs, delete ${path}`, 1);
    let note: string | null = null;
    for (let attempt = 0; attempt < 5; attempt++) {
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(mine) + '\n');
      try {
        linkSync(tmp, path);
        rmSync(tmp, { force: true });
        return { note, release: () => this.unlock(mine) };
      } catch (err) {
        rmSync(tmp, { force: true });
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readLock(path);
      if (holder && holderAlive(holder)) throw busy(holder);
      // stale: moved aside by rename, which one process wins; a loser finds the name gone and retries
      const aside = `${path}.stale.${process.pid}`;
      try {
        renameSync(path, aside);
      } catch {
        continue;
      }
      const moved = readLock(aside);
      if (moved && holderAlive(moved)) {
        // another process took it over between our read and our rename: give it back
        try {
          linkSync(aside, path);
        } catch {
          // a third one holds the name now
        }
        rmSync(aside, { force: true });
        throw busy(moved);
      }
      rmSync(aside, { force: true });
      note = `took over ${path} from process ${moved?.pid ?? '(unknown)'}, which no longer runs`;
    }
    throw new RunDirError(`${path}: could not take the lock after 5 tries (other processes keep taking it); try again`, 1);
  }

  /** Removes the lock if it is still this holder's (never another process's). */
  private unlock(mine: LockHolder): void {
    const now = readLock(this.lockPath);
    if (now && now.pid === mine.pid && now.since === mine.since && now.host === mine.host) rmSync(this.lockPath, { force: true });
  }

  init(configYaml: string, kind: RunKind): void {
    ensureDir(this.checkpoints);
    // config first: a folder with run.json but no config.yaml could be neither resumed nor restarted
    writeFileAtomic(this.configPath, configYaml);
    this.recordKind(kind);
    // a fresh run starts its own metrics: lines left by an earlier run whose config is gone are not its steps
    writeFileAtomic(this.metricsPath, '');
  }

  /** One line appended; O_NOFOLLOW: a metrics.jsonl replaced by a symlink is an error, not a write elsewhere. */
  appendMetrics(record: Record<string, unknown>): void {
    const fd = openSync(this.metricsPath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    try {
      const buf = Buffer.from(JSON.stringify(record) + '\n');
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    } finally {
      closeSync(fd);
    }
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
    ensureDir(this.checkpoints);
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
