/** Helpers for the state machine tests: a state in a temp dir, entries from commands, a full dump, random commands. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { encodeCanonical } from '../../../src/cluster/codec.js';
import type { ClusterCommand } from '../../../src/cluster/commands.js';
import { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import type { StateReader } from '../../../src/cluster/state-view.js';
import { ENTRY_NORMAL, type Entry } from '../../../src/raft/core/types.js';

export async function tempDir(prefix = 'wire-fsm-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function openFsm(dir: string): Promise<ClusterStateMachine> {
  return ClusterStateMachine.open({ dir });
}

/** Entries for `commands` from `firstIndex`, in term `term`. Anything not a valid command is encoded as is. */
export function entries(commands: readonly unknown[], firstIndex: number, term = 1): Entry[] {
  return commands.map((c, i) => ({ index: firstIndex + i, term, type: ENTRY_NORMAL, data: encodeCanonical(c) }));
}

/** Everything a reader can see, in one plain value (equal dumps ⇔ equal states). */
export function dump(state: StateReader): unknown {
  return {
    applied: state.applied(),
    cluster: state.cluster() ?? null,
    nodes: state.nodes(),
    pipelines: state.pipelines().map((p) => ({ ...p, versions: state.versions(p.name) })),
    tokens: state.tokens(),
    audit: state.auditEntries({ after: 0, limit: Number.MAX_SAFE_INTEGER }),
  };
}

const at = fc.integer({ min: 0, max: 2 ** 40 });
const name = fc.constantFrom('alpha', 'beta', 'gamma');
const nodeId = fc.constantFrom('n1', 'n2', 'n3');
const version = fc.integer({ min: 1, max: 6 });
const desired = fc.constantFrom('running', 'stopped', 'paused');
const spec = (n: string) =>
  fc.record(
    {
      name: fc.constant(n),
      source: fc.record({ type: fc.constant('generate'), config: fc.record({ count: fc.integer({ min: 0, max: 1000 }), text: fc.string() }) }),
      sink: fc.constant({ type: 'stdout', config: {} }),
      parallelism: fc.integer({ min: 1, max: 8 }),
    },
    { requiredKeys: ['source', 'sink'] },
  );

const valid: fc.Arbitrary<ClusterCommand> = fc.oneof(
  fc.record({ v: fc.constant(1 as const), type: fc.constant('cluster.init' as const), id: fc.constantFrom('c1', 'c2'), at }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant('node.upsert' as const),
    node: fc.record({
      id: nodeId,
      raftAddress: fc.constantFrom('127.0.0.1:4002', '10.0.0.2:4002'),
      httpAddress: fc.constant('127.0.0.1:4001'),
      role: fc.constantFrom('voter' as const, 'learner' as const),
      labels: fc.dictionary(fc.constantFrom('zone', 'rack'), fc.constantFrom('a', 'b')),
    }),
    at,
  }),
  fc.record({ v: fc.constant(1 as const), type: fc.constant('node.remove' as const), id: nodeId, at }),
  name.chain((n) => fc.record({ v: fc.constant(1 as const), type: fc.constant('pipeline.create' as const), name: fc.constant(n), spec: spec(n), desired, at })),
  name.chain((n) =>
    fc.record(
      { v: fc.constant(1 as const), type: fc.constant('pipeline.replace' as const), name: fc.constant(n), spec: spec(n), ifVersion: version, at },
      { requiredKeys: ['v', 'type', 'name', 'spec', 'at'] },
    ),
  ),
  fc.record({ v: fc.constant(1 as const), type: fc.constant('pipeline.delete' as const), name, ifVersion: version, at }, { requiredKeys: ['v', 'type', 'name', 'at'] }),
  fc.record({ v: fc.constant(1 as const), type: fc.constant('pipeline.setDesired' as const), name, desired, at }),
  fc.record({ v: fc.constant(1 as const), type: fc.constant('pipeline.rollback' as const), name, to: version, at }),
);

/** Commands the checks refuse whatever the state: a wrong version or type, a missing or extra field, a bad value. */
export const malformed: fc.Arbitrary<unknown> = fc.oneof(
  valid.map((c) => ({ ...c, v: 2 })),
  valid.map((c) => ({ ...c, type: 'pipeline.explode' })),
  valid.map((c) => ({ ...c, extra: true })),
  valid.map((c) => ({ ...c, at: -1 })),
  fc.record({ v: fc.constant(1), type: fc.constant('pipeline.create'), name: fc.constant('Bad Name'), spec: fc.constant({}), desired, at }),
  fc.record({ v: fc.constant(1), type: fc.constant('pipeline.create'), name, spec: fc.constant({ name: 'other' }), desired, at }),
  fc.constantFrom(null, 42, 'text', [1, 2]),
);

export const validCommand = valid;

/** Random histories: usually initialized first, then a mix of valid and malformed commands. */
export const history: fc.Arbitrary<unknown[]> = fc
  .tuple(fc.boolean(), fc.array(fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: malformed }), { maxLength: 40 }))
  .map(([init, rest]) => (init ? [{ v: 1, type: 'cluster.init', id: 'c1', at: 0 }, ...rest] : rest));

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < bytes.length; o += size) yield bytes.subarray(o, Math.min(bytes.length, o + size));
}
