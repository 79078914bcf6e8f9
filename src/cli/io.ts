/** What a command may touch of the outside world; main.ts binds it to the process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** True when stderr is a terminal: live progress is redrawn there. */
  readonly stderrIsTty: boolean;
  /** True when stdout is a terminal too: a stdout sink then shares it with the live progress line. */
  readonly stdoutIsTty?: boolean;
  /** True when stdin is a terminal: a stdin source then reads what is typed there, echoed. */
  readonly stdinIsTty?: boolean;
  readonly columns: number | undefined;
  /** What `wire eval` and `wire run -` read; absent, an empty input. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Calls `listener` once stdout's reader has gone away (EPIPE: `wire run … | head -1`). */
  readonly onStdoutClosed?: (listener: () => void) => void;
  /** The first error a write to stdout met (EPIPE included), if any. */
  readonly stdoutFailure?: () => NodeJS.ErrnoException | undefined;
}

export function processIo(): CliIo {
  const closedListeners: (() => void)[] = [];
  let stdoutClosed = false;
  let failure: NodeJS.ErrnoException | undefined;
  // Without a listener a failed write is an uncaught 'error' event: a stack trace and exit 1. The stdout sink gets
  // the error in its write callback too; main.ts reports it when nothing else did.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    failure ??= error;
    if (error.code !== 'EPIPE' || stdoutClosed) return;
    stdoutClosed = true;
    for (const listener of closedListeners.splice(0)) listener();
  });
  // A closed stderr (`wire run … 2>&1 | head -1`) leaves nowhere to report anything: what it could not print is lost.
  process.stderr.on('error', () => undefined);
  return {
    stdout: (text) => void (stdoutClosed || process.stdout.write(text)),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    stderrIsTty: process.stderr.isTTY === true,
    stdoutIsTty: process.stdout.isTTY === true,
    stdinIsTty: process.stdin.isTTY === true,
    columns: process.stderr.columns,
    stdin: process.stdin,
    onStdoutClosed: (listener) => {
      if (stdoutClosed) listener();
      else closedListeners.push(listener);
    },
    stdoutFailure: () => failure,
  };
}
