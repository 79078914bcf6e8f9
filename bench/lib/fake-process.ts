// Starts a bench fake server script (bench/lib/fake-*-process.ts) in a child process and waits for the `URL=...`
// line it prints once listening.
import { spawn } from 'node:child_process';

export interface FakeProcess {
  readonly url: string;
  stop(): void;
}

export async function startFakeProcess(script: string): Promise<FakeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /URL=(\S+)/.exec(out);
      if (match !== null) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before listening`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}
