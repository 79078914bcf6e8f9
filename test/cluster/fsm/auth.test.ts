/** The token and audit commands of the state machine: their rules, the audit log's bound, and determinism. */
import { afterEach, describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../../src/cluster/apply-result.js';
import type { ClusterCommand } from '../../../src/cluster/commands.js';
import type { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { MAX_AUDIT_BATCH, MAX_AUDIT_ENTRIES, type AuditEntry } from '../../../src/security/audit-records.js';
import { generateToken } from '../../../src/security/auth-tokens.js';
import { chunked, collect, dump, entries, openFsm, tempDir } from './harness.js';

const init: ClusterCommand = { v: 1, type: 'cluster.init', id: 'c1', at: 1 };
const dirs: { remove: () => Promise<void> }[] = [];
const fsms: ClusterStateMachine[] = [];

async function fresh(): Promise<ClusterStateMachine> {
  const dir = await tempDir();
  dirs.push(dir);
  const fsm = await openFsm(dir.path);
  fsms.push(fsm);
  await fsm.apply(entries([init], 1));
  return fsm;
}

async function apply(fsm: ClusterStateMachine, ...commands: ClusterCommand[]): Promise<ApplyResult[]> {
  const first = fsm.appliedIndex() + 1;
  return fsm.apply(entries(commands, first));
}

const tokenCreate = (t: { id: string; hash: string }, at = 10): ClusterCommand => ({
  v: 1,
  type: 'token.create',
  id: t.id,
  hash: t.hash,
  role: 'operator',
  pipelines: ['orders-*'],
  name: 'ci',
  createdBy: 'abcdefabcdefabcd',
  expiresAt: null,
  at,
});

const entry = (i: number): AuditEntry => ({ at: i, node: 'n1', address: '10.0.0.1', token: null, role: null, action: `POST /x/${i}`, target: null, command: null, result: 'UNAUTHORIZED', status: 401 });

afterEach(async () => {
  for (const f of fsms.splice(0)) await f.close();
  for (const d of dirs.splice(0)) await d.remove();
});

describe('tokens in the state', () => {
  it('keep the hash and never the token; the same create again changes nothing, another secret under the id is a CONFLICT', async () => {
    const fsm = await fresh();
    const t = generateToken();
    const [created] = await apply(fsm, tokenCreate(t));
    expect(created).toMatchObject({ status: 'applied', outcome: { kind: 'token', token: { id: t.id, hash: t.hash, role: 'operator', revokedAt: null } } });
    expect(JSON.stringify(dump(fsm.view()))).not.toContain(t.token.slice(5));
    const [again] = await apply(fsm, tokenCreate(t, 99));
    expect(again).toMatchObject({ status: 'applied', outcome: { token: { createdAt: 10 } } });
    const [other] = await apply(fsm, tokenCreate({ id: t.id, hash: generateToken().hash }));
    expect(other).toMatchObject({ status: 'rejected', error: { code: 'CONFLICT' } });
  });

  it('are revoked by marking them, so the same create after a revoke leaves them revoked', async () => {
    const fsm = await fresh();
    const t = generateToken();
    await apply(fsm, tokenCreate(t));
    const [revoked] = await apply(fsm, { v: 1, type: 'token.revoke', id: t.id, at: 20 });
    expect(revoked).toMatchObject({ status: 'applied', outcome: { token: { revokedAt: 20 } } });
    await apply(fsm, tokenCreate(t, 30), { v: 1, type: 'token.revoke', id: t.id, at: 40 });
    expect(fsm.view().token(t.id)?.revokedAt).toBe(20);
    const [unknown] = await apply(fsm, { v: 1, type: 'token.revoke', id: '0000000000000000', at: 50 });
    expect(unknown).toMatchObject({ status: 'rejected', error: { code: 'NOT_FOUND' } });
  });
});

describe('the audit log', () => {
  it('records a command with `by` once it applies, and nothing for one rejected on apply', async () => {
    const fsm = await fresh();
    const by = { node: 'n2', address: '10.1.1.1', token: 'abcdefabcdefabcd', role: 'operator', action: 'POST /v1/pipelines' } as const;
    const spec = { name: 'p', source: { type: 'generate', config: {} }, sink: { type: 'stdout', config: {} } };
    await apply(fsm, { v: 1, type: 'pipeline.create', name: 'p', spec, desired: 'running', at: 7, by }, { v: 1, type: 'pipeline.create', name: 'p', spec, desired: 'running', at: 8, by });
    expect(fsm.view().auditEntries({ limit: 10 })).toEqual([
      { seq: 1, at: 7, node: 'n2', address: '10.1.1.1', token: 'abcdefabcdefabcd', role: 'operator', action: 'POST /v1/pipelines', target: 'p', command: 'pipeline.create', result: 'ok', status: null },
    ]);
  });

  it(`keeps the newest ${MAX_AUDIT_ENTRIES} entries, dropping the oldest on apply, the same on every node and through a snapshot`, async () => {
    const batches: ClusterCommand[] = [];
    let n = 0;
    while (n < MAX_AUDIT_ENTRIES + 2 * MAX_AUDIT_BATCH + 17) {
      const size = Math.min(MAX_AUDIT_BATCH, 1 + (n % MAX_AUDIT_BATCH));
      batches.push({ v: 1, type: 'audit.append', entries: Array.from({ length: size }, (_, i) => entry(n + i + 1)), at: n });
      n += size;
    }
    const a = await fresh();
    const b = await fresh();
    // One apply of everything (a batch's later commands read its earlier writes) against many small ones.
    await apply(a, ...batches);
    for (const c of batches) await apply(b, c);
    const view = a.view();
    expect(view.auditEdges()).toEqual({ first: n - MAX_AUDIT_ENTRIES + 1, last: n });
    const all = view.auditEntries({ after: 0, limit: Number.MAX_SAFE_INTEGER });
    expect(all).toHaveLength(MAX_AUDIT_ENTRIES);
    expect(all[0]).toMatchObject({ seq: n - MAX_AUDIT_ENTRIES + 1, action: `POST /x/${n - MAX_AUDIT_ENTRIES + 1}` });
    expect(view.auditEntries({ limit: 2 }).map((e) => e.seq)).toEqual([n - 1, n]);
    expect(view.auditEntries({ after: n - 3, limit: 2 }).map((e) => e.seq)).toEqual([n - 2, n - 1]);
    const { applied: _a, ...stateA } = dump(a.view()) as { applied: unknown };
    const { applied: _b, ...stateB } = dump(b.view()) as { applied: unknown };
    expect(stateB).toEqual(stateA);

    const c = await fresh();
    await c.restore(chunked(await collect(a.snapshot()), 65_536));
    expect(dump(c.view())).toEqual(dump(a.view()));
  }, 60_000);
});
