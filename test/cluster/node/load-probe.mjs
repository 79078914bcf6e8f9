// `node --import ./load-probe.mjs …`: appends to $WIRE_LOAD_PROBE_FILE every module the process loads: ES modules
// as they load (load-probe-hooks.mjs), every script compiled with `vm.Script` as `script:FILENAME` (the CLI's
// bundles, which bin/cached-bundle.js runs so), and at exit every file `require` loaded (the hooks do not see those).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import process from 'node:process';
import vm from 'node:vm';

const out = process.env.WIRE_LOAD_PROBE_FILE;
register('./load-probe-hooks.mjs', import.meta.url);

const Script = vm.Script;
vm.Script = class extends Script {
  constructor(code, options) {
    super(code, options);
    appendFileSync(out, `script:${options?.filename ?? ''}\n`);
  }
};

const required = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(out, Object.keys(required).map((file) => `${file}\n`).join('')));
