// The API under generated requests (seeded: WIRE_FUZZ_SEED, WIRE_FUZZ_REQUESTS), carrying the tokens of an admin,
// an operator (one limited to pipelines a*), a viewer, a revoked and an expired token, none or a malformed one: no
// 5xx, no internal error, the node healthy after, no state change from any rejected request, and none beyond what
// the caller's token allows from an accepted one. The figures are printed as one JSON line; `npm run fuzz:api`
// runs 10,000.
import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz/run.js';

const seed = Number(process.env['WIRE_FUZZ_SEED'] ?? 20261203);
// CI runs 2,000 (well under a minute on a loaded 2-core machine); the closing figures come from `npm run fuzz:api`.
const requests = Number(process.env['WIRE_FUZZ_REQUESTS'] ?? 2_000);

describe('API fuzz', () => {
  it(`answers ${requests} generated requests (seed ${seed}) without a 5xx, a crash, a state change from a rejected one or one beyond its token`, async () => {
    const started = Date.now();
    const report = await runFuzz({ seed, requests });
    console.log(JSON.stringify({ fuzz: { ...report, failures: report.failures.length, internalErrors: report.internalErrors.length, seconds: (Date.now() - started) / 1000 } }));
    expect(report.failures).toEqual([]);
    expect(report.internalErrors).toEqual([]);
    expect(report.healthyAfter).toBe(true);
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.rejected).toBeGreaterThan(0);
    // Every holder reached the API, and the ones without a valid token were refused.
    for (const who of ['admin', 'operator', 'operator-a', 'viewer', 'revoked', 'expired', 'none']) expect(Object.keys(report.byWho[who] ?? {}).length).toBeGreaterThan(0);
    expect(report.byWho['revoked']?.['401']).toBeGreaterThan(0);
    expect(report.byWho['viewer']?.['403']).toBeGreaterThan(0);
  }, 600_000);
});
