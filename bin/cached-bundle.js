// Runs one of the CLI's bundles (dist/cli/*.cjs) from the V8 code cache that `npm run build` made for it
// (scripts/build-cli.ts), so that starting does not parse and compile half a megabyte of JavaScript. bin/wire.js
// runs the CLI's bundle with it, and that bundle runs `wire node`'s own bundle with it (the module is loaded once).
// CommonJS (see bin/package.json) like the bundles: Node 20 keeps no compiled code for ES modules.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { basename, dirname } = require('node:path');
const { Script } = require('node:vm');

/** The build ends a bundle with this line; its cache starts with the same hash (see scripts/build-cli.ts). */
const STAMP = /\/\/ wire-build ([0-9a-f]{64})\n$/;

function readOrUndefined(file, encoding) {
  try {
    return readFileSync(file, encoding);
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Runs the bundle `file` (an absolute path) as a CommonJS module and returns its exports. */
function runBundle(file) {
  // The build checks that a bundle is ASCII, which reads faster as latin1 than as UTF-8.
  const source = readOrUndefined(file, 'latin1');
  if (source === undefined) {
    process.stderr.write(`wire: ${file} is missing; run \`npm run build\` first\n`);
    process.exit(70);
  }
  const stamp = STAMP.exec(source.slice(-100))?.[1];
  if (stamp === undefined) {
    process.stderr.write(`wire: ${file} is not a complete build; run \`npm run build\` again\n`);
    process.exit(70);
  }
  // V8 checks a cache against its own version and flags and the source's length only: the stamp makes sure
  // that the cache was made from this very bundle.
  const cacheFile = `${file}.cache`;
  const cache = readOrUndefined(cacheFile);
  const cachedData = cache !== undefined && cache.toString('latin1', 0, 64) === stamp ? cache.subarray(64) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  // The build runs each bundle once with this naming it, and keeps every function that run compiled.
  if (process.env.WIRE_WRITE_CODE_CACHE === basename(file)) {
    process.once('exit', () => writeFileSync(cacheFile, Buffer.concat([Buffer.from(stamp, 'latin1'), script.createCachedData()])));
  }
  const module_ = { exports: {} };
  script.runInThisContext()(module_.exports, createRequire(file), module_, file, dirname(file));
  return module_.exports;
}

module.exports = { runBundle };
