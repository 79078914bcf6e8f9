#!/usr/bin/env node
// The `wire` command: runs the CLI's bundle, dist/cli/wire.cjs, from the V8 code cache that `npm run build` made
// for it (scripts/build-cli.ts), so that starting does not parse and compile half a megabyte of JavaScript.
// CommonJS (see bin/package.json) like the bundle: Node 20 keeps no compiled code for ES modules, and an ES
// module entry point would cost its ESM loader too. Keep this file small: it runs before anything else.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, '..', 'dist', 'cli', 'wire.cjs');
const cacheFile = `${bundle}.cache`;
/** The build ends the bundle with this line; its cache starts with the same hash (see scripts/build-cli.ts). */
const STAMP = /\/\/ wire-build ([0-9a-f]{64})\n$/;

function readOrUndefined(file, encoding) {
  try {
    return readFileSync(file, encoding);
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

// The build checks that the bundle is ASCII, which reads faster as latin1 than as UTF-8.
const source = readOrUndefined(bundle, 'latin1');
if (source === undefined) {
  process.stderr.write('wire: dist/ is missing; run `npm run build` first\n');
  process.exit(70);
}
const stamp = STAMP.exec(source.slice(-100))?.[1];
if (stamp === undefined) {
  process.stderr.write(`wire: ${bundle} is not a complete build; run \`npm run build\` again\n`);
  process.exit(70);
}
// V8 checks a cache against its own version and flags and the source's length only: the stamp makes sure
// that the cache was made from this very bundle.
const cache = readOrUndefined(cacheFile);
const cachedData = cache !== undefined && cache.toString('latin1', 0, 64) === stamp ? cache.subarray(64) : undefined;

const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
// The build runs a tiny pipeline with this set, and keeps every function that run compiled.
if (process.env.WIRE_WRITE_CODE_CACHE === '1') {
  process.once('exit', () => writeFileSync(cacheFile, Buffer.concat([Buffer.from(stamp, 'latin1'), script.createCachedData()])));
}
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, createRequire(bundle), module_, bundle, join(bundle, '..'));
