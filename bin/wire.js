#!/usr/bin/env node
// The `wire` command: runs the CLI's bundle, dist/cli/wire.cjs, from its V8 code cache (see cached-bundle.js).
// CommonJS (see bin/package.json): an ES module entry point would cost Node's ESM loader too. Keep this file
// small: it runs before anything else.
'use strict';
const { join } = require('node:path');
const { runBundle } = require('./cached-bundle.js');

runBundle(join(__dirname, '..', 'dist', 'cli', 'wire.cjs'));
