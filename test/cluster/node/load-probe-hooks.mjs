// Module hooks for the loaded-modules probe: every URL the process loads is appended to $WIRE_LOAD_PROBE_FILE.
import { appendFileSync } from 'node:fs';
import process from 'node:process';

export async function load(url, context, nextLoad) {
  appendFileSync(process.env.WIRE_LOAD_PROBE_FILE, `${url}\n`);
  return nextLoad(url, context);
}
