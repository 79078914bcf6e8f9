// The `wire` command's entry point; bin/wire.js imports the compiled form of this file.
import { processIo } from './io.js';
import { runCli } from './program.js';

// Exit explicitly: a run is over once its pipelines are done, whatever handle a library left open.
process.exit(await runCli(process.argv, processIo()));
