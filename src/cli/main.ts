// The `wire` command's entry point; the build bundles it into dist/cli/wire.cjs, which bin/wire.js runs.
import { processIo } from './io.js';
import { runCli } from './program.js';
import { exitCodeAfterStdout } from './exit.js';

// (No top-level await: the bundle is CommonJS, see scripts/build-cli.ts.)
const io = processIo();
void runCli(process.argv, io)
  // Output still queued for stdout (a pipe takes 64 KiB at a time: `wire schema | …` writes 200 KiB) is lost by
  // `process.exit`: wait until it is written. A failed last write reports its error on a later turn: wait for it too.
  .then((exitCode) => new Promise<number>((resolve) => process.stdout.write('', () => setImmediate(() => resolve(exitCode)))))
  // Exit explicitly: a run is over once its pipelines are done, whatever handle a library left open.
  .then((exitCode) => process.exit(exitCodeAfterStdout(exitCode, io)));
