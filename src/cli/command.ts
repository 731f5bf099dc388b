/** What a sub-command module exports (src/cli/commands/*): run it with its arguments, get an exit code. */
export interface Command {
  readonly run: (argv: string[]) => Promise<number>;
}
