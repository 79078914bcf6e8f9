// `npm run fuzz:api -- [--requests 10000] [--seed N]`: the API fuzz at full size (CI runs a smaller one in
// test/api/fuzz.test.ts), printing its figures as one JSON line; exits 1 on any failure.
import { parseArgs } from 'node:util';
import { runFuzz } from './run.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '10000' }, seed: { type: 'string', default: '20261203' } } });
const started = Date.now();
const report = await runFuzz({ seed: Number(values.seed), requests: Number(values.requests) });
process.stdout.write(`${JSON.stringify({ fuzz: { ...report, seconds: (Date.now() - started) / 1000 } }, null, 1)}\n`);
const ok = report.failures.length === 0 && report.internalErrors.length === 0 && report.healthyAfter;
process.exitCode = ok ? 0 : 1;
