// The `wire` command's entry point; bin/wire.js imports the compiled form of this file.
import { processIo } from './io.js';
import { runCli } from './program.js';
import { exitCodeAfterStdout } from './exit.js';

const io = processIo();
const exitCode = await runCli(process.argv, io);
// A failed last write to stdout reports its error on a later turn of the event loop: wait for it.
await new Promise((resolve) => setImmediate(resolve));
// Exit explicitly: a run is over once its pipelines are done, whatever handle a library left open.
process.exit(exitCodeAfterStdout(exitCode, io));
