/** What a command may touch of the outside world; main.ts binds it to the process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** True when stderr is a terminal: live progress is redrawn there. */
  readonly stderrIsTty: boolean;
  readonly columns: number | undefined;
  /** What `wire eval` and `wire run -` read; absent, an empty input. */
  readonly stdin?: NodeJS.ReadableStream;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    stderrIsTty: process.stderr.isTTY === true,
    columns: process.stderr.columns,
    stdin: process.stdin,
  };
}
