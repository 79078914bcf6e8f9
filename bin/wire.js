#!/usr/bin/env node
// The `wire` command: runs the bundled CLI (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/wire.mjs', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('wire: dist/ is missing; run `npm run build` first\n');
  process.exit(70);
}
await import(entry.href);
