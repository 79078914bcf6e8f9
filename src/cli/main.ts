// The `wire` command's entry point; the build bundles it into dist/cli/wire.cjs, which bin/wire.js runs.
import { processIo } from './io.js';
import { runCli } from './program.js';

// Exit explicitly: a run is over once its pipelines are done, whatever handle a library left open.
// (No top-level await: the bundle is CommonJS, see scripts/build-cli.ts.)
void runCli(process.argv, processIo()).then((code) => process.exit(code));
