// The `wire` command's entry point; the build bundles it into dist/cli/wire.cjs, which bin/wire.js runs.
import { processIo } from './io.js';
import { runCli } from './program.js';
import { exitCodeAfterStdout } from './exit.js';

// (No top-level await: the bundle is CommonJS, see scripts/build-cli.ts.)
const io = processIo();
void runCli(process.argv, io)
  // A failed last write to stdout reports its error on a later turn of the event loop: wait for it.
  .then((exitCode) => new Promise<number>((resolve) => setImmediate(() => resolve(exitCode))))
  // Exit explicitly: a run is over once its pipelines are done, whatever handle a library left open.
  .then((exitCode) => process.exit(exitCodeAfterStdout(exitCode, io)));
