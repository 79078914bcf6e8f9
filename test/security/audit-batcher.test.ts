import { describe, expect, it } from 'vitest';
import { AuditBatcher } from '../../src/security/audit-batcher.js';
import { MAX_AUDIT_BATCH, type AuditEntry } from '../../src/security/audit-records.js';

const entry = (i: number): AuditEntry => ({ at: i, node: 'n1', address: '10.0.0.1', token: null, role: null, action: `GET /${i}`, target: null, command: null, result: 'UNAUTHORIZED', status: 401 });

describe('AuditBatcher', () => {
  it('writes waiting entries in batches of at most MAX_AUDIT_BATCH, keeps a failed batch, and counts what overflows', async () => {
    const written: AuditEntry[][] = [];
    const errors: Error[] = [];
    let failing = true;
    const batcher = new AuditBatcher({
      node: 'n1',
      intervalMs: 3_600_000,
      maxPending: MAX_AUDIT_BATCH + 10,
      append: async (entries) => {
        if (failing) throw new Error('no leader');
        written.push([...entries]);
      },
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < MAX_AUDIT_BATCH + 15; i++) batcher.add(entry(i));
    await batcher.flush();
    expect(errors.map((e) => e.message)).toEqual(['no leader']);
    failing = false;
    await batcher.close();
    expect(written.map((b) => b.length)).toEqual([MAX_AUDIT_BATCH, 11]);
    const all = written.flat();
    expect(all.slice(0, MAX_AUDIT_BATCH + 10).map((e) => e.at)).toEqual(Array.from({ length: MAX_AUDIT_BATCH + 10 }, (_, i) => i));
    expect(all.at(-1)).toMatchObject({ action: '5 calls not recorded: the audit queue was full', result: 'UNAVAILABLE' });
  });
});
