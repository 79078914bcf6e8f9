// `node --import ./load-probe.mjs …`: records every module the process loads, to $WIRE_LOAD_PROBE_FILE — CommonJS
// through Module._load (the CLI bundle's requires), ES modules through the hooks of load-probe-hooks.mjs.
import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import process from 'node:process';

const load = Module._load;
Module._load = function probe(request, parent, isMain) {
  let where = request;
  try {
    where = Module._resolveFilename(request, parent, isMain);
  } catch {
    // Unresolvable: the original load reports it.
  }
  appendFileSync(process.env.WIRE_LOAD_PROBE_FILE, `${where}\n`);
  return load.call(this, request, parent, isMain);
};
register('./load-probe-hooks.mjs', import.meta.url);
