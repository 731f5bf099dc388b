/**
 * The CLI's one error path: every failure a user can meet becomes one line on stderr naming
 * the file and what to do, and an exit code — 2 when the input is wrong (a flag, a config key,
 * a file's contents), 1 when the machine is (a full disk, a permission, another process).
 * Stack traces are for bugs, and only with PGPO_DEBUG=1.
 */
import { CliError } from './args.ts';

export interface Failure {
  readonly line: string;
  readonly exitCode: 1 | 2;
}

/** What a system error code means, what to do about it, and whose fault it is (2: the path given; 1: the machine). */
const SYSTEM_ERRORS: Record<string, { what: string; fix: string; exitCode: 1 | 2 }> = {
  ENOENT: { what: 'no such file or directory', fix: 'check the path', exitCode: 2 },
  ENOTDIR: { what: 'a part of the path is not a directory', fix: 'check the path', exitCode: 2 },
  EISDIR: { what: 'is a directory, not a file', fix: 'give a file path', exitCode: 2 },
  EEXIST: { what: 'already exists', fix: 'remove it or give another path', exitCode: 2 },
  ELOOP: { what: 'is a symbolic link (or a loop of them), which is not followed', fix: 'give the real path', exitCode: 2 },
  ENAMETOOLONG: { what: 'name too long', fix: 'give a shorter path', exitCode: 2 },
  EACCES: { what: 'permission denied', fix: 'check its permissions, or choose another path', exitCode: 1 },
  EPERM: { what: 'operation not permitted', fix: 'check its permissions, or choose another path', exitCode: 1 },
  EROFS: { what: 'read-only file system', fix: 'choose a writable path', exitCode: 1 },
  ENOSPC: { what: 'no space left on device', fix: 'free some space and re-run (runs resume from their last checkpoint)', exitCode: 1 },
  EDQUOT: { what: 'disk quota exceeded', fix: 'free some space and re-run', exitCode: 1 },
  EMFILE: { what: 'too many open files', fix: 'raise the limit (ulimit -n) and re-run', exitCode: 1 },
  EIO: { what: 'input/output error', fix: 'check the disk', exitCode: 1 },
  EBUSY: { what: 'resource busy', fix: 'try again when it is free', exitCode: 1 },
  ENOTEMPTY: { what: 'directory not empty', fix: 'empty or remove it', exitCode: 2 },
  EXDEV: { what: 'cannot rename across file systems', fix: 'give a path on the same file system', exitCode: 2 },
  EINVAL: { what: 'invalid argument for this file', fix: 'give a regular file or directory path', exitCode: 2 },
  ENXIO: { what: 'no such device', fix: 'give a regular file path', exitCode: 2 },
};

/**
 * Errors of bad input, by class name: matched by name so that this module (loaded by every
 * command) imports none of the modules that raise them (`pgpo verify` never loads the engine).
 */
const INPUT_ERRORS = new Set(['TrainError', 'ConfigError', 'DatasetError', 'RolloutFormatError', 'AlgoInputError', 'EvalReportError', 'RunDataError']);

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** `pgpo CMD: ` before a message that does not say which command already. */
const prefixed = (command: string, message: string) => (message.startsWith('pgpo') ? message : `pgpo ${command}: ${message}`);

/** The one line and exit code for an error, or null for a bug (an error no path expects). */
export function failureOf(err: unknown, command: string): Failure | null {
  if (err instanceof CliError) return { line: err.message, exitCode: err.exitCode === 1 ? 1 : 2 };
  if (!(err instanceof Error)) return null;
  // a run folder in use by another process is the machine's state (exitCode 1); its other errors are input
  if (err.name === 'RunDirError') return { line: prefixed(command, err.message), exitCode: (err as Error & { exitCode?: number }).exitCode === 1 ? 1 : 2 };
  if (INPUT_ERRORS.has(err.name)) return { line: prefixed(command, err.message), exitCode: 2 };
  if (isSystemError(err)) {
    const known = SYSTEM_ERRORS[err.code!];
    const dest = (err as NodeJS.ErrnoException & { dest?: string }).dest;
    const path = dest ? `${err.path} -> ${dest}` : (err.path ?? '');
    const verb = err.syscall === 'open' || err.syscall === 'read' ? 'open' : err.syscall;
    if (known) return { line: `pgpo ${command}: cannot ${verb} ${path}: ${known.what} (${err.code}); ${known.fix}`, exitCode: known.exitCode };
    return { line: `pgpo ${command}: cannot ${verb} ${path}: ${err.code}`, exitCode: 1 };
  }
  return null;
}

/** Whether an error is a closed output pipe (`pgpo ... | head`): the reader has all it wants, so the command ends quietly. */
export const isClosedPipe = (err: unknown): boolean => (err as NodeJS.ErrnoException | null)?.code === 'EPIPE';
