import { Packr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outcomeOf, type ApplyResult } from '../../../src/cluster/apply-result.js';
import { encodeCanonical } from '../../../src/cluster/codec.js';
import { decodeCommand, encodeCommand, type ClusterCommand } from '../../../src/cluster/commands.js';
import type { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { getPipeline, pipelineVersions, clusterInfo, listNodes } from '../../../src/cluster/queries.js';
import { WireError } from '../../../src/core/errors.js';
import { dump, entries, openFsm, tempDir } from './harness.js';

const spec = (name: string, count: number) => ({ name, source: { type: 'generate', config: { count } }, sink: { type: 'stdout', config: {} } });
const init: ClusterCommand = { v: 1, type: 'cluster.init', id: 'c1', at: 1 };

describe('commands', () => {
  it('encode to the same bytes whatever the order of their fields', () => {
    const a = encodeCommand({ v: 1, type: 'pipeline.create', name: 'p', spec: { b: 1, a: { y: 2, x: 1 } }, desired: 'running', at: 5 });
    const b = encodeCommand({ at: 5, desired: 'running', spec: { a: { x: 1, y: 2 }, b: 1 }, name: 'p', type: 'pipeline.create', v: 1 } as ClusterCommand);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(decodeCommand(a)).toEqual({ v: 1, type: 'pipeline.create', name: 'p', spec: { a: { x: 1, y: 2 }, b: 1 }, desired: 'running', at: 5 });
  });

  it.each([
    [{ v: 2, type: 'cluster.init', id: 'c', at: 0 }, /unsupported command version 2/],
    [{ type: 'cluster.init', id: 'c', at: 0 }, /unsupported command version undefined/],
    [{ v: 1, type: 'cluster.explode', at: 0 }, /unknown command type "cluster.explode"/],
    [{ v: 1, type: 'cluster.init', id: 'c', at: 0, extra: 1 }, /cluster.init: .*extra|additional/i],
    [{ v: 1, type: 'pipeline.create', name: 'p', spec: {}, desired: 'flying', at: 0 }, /desired/],
    [{ v: 1, type: 'pipeline.rollback', name: 'p', to: 0, at: 0 }, /to/],
    [{ v: 1, type: 'cluster.init', id: 'c', at: 1.5 }, /at/],
  ])('are refused with INVALID_INPUT when malformed: %j', (command, message) => {
    const err = (() => {
      try {
        encodeCommand(command as ClusterCommand);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(WireError);
    expect((err as WireError).code).toBe('INVALID_INPUT');
    expect((err as WireError).message).toMatch(message);
  });

  it('refuse values JSON cannot hold (a Date, NaN) before they are proposed', () => {
    expect(() => encodeCommand({ v: 1, type: 'pipeline.create', name: 'p', spec: { when: new Date(0) }, desired: 'running', at: 0 })).toThrow(/Date object/);
    expect(() => encodeCommand({ v: 1, type: 'pipeline.create', name: 'p', spec: { n: Number.NaN }, desired: 'running', at: 0 })).toThrow(/finite/);
  });

  it('decode garbage bytes to an INVALID_INPUT error', () => {
    expect(() => decodeCommand(Buffer.from([0xc1, 0xff, 0x00]))).toThrow(WireError);
  });
});

describe('applying commands', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let fsm: ClusterStateMachine;
  let next: number;

  beforeEach(async () => {
    dir = await tempDir();
    fsm = await openFsm(dir.path);
    next = 1;
  });
  afterEach(async () => {
    await fsm.close();
    await dir.remove();
  });

  const run = async (...commands: unknown[]): Promise<ApplyResult[]> => {
    const results = await fsm.apply(entries(commands, next));
    next += commands.length;
    return results;
  };
  const errorOf = (result: ApplyResult): WireError => {
    if (result.status !== 'rejected') throw new Error(`expected a rejection, got ${result.status}`);
    return result.error;
  };

  it('refuses everything but cluster.init before the cluster is initialized', async () => {
    const [r] = await run({ v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 1), desired: 'running', at: 1 });
    expect(errorOf(r!).code).toBe('CONFLICT');
    expect(errorOf(r!).message).toMatch(/not initialized/);
    expect(fsm.appliedIndex()).toBe(1);
  });

  it('initializes once: the same id again is a success, another id a CONFLICT', async () => {
    const [a, b, c] = await run(init, { ...init, at: 99 }, { ...init, id: 'c2' });
    expect(outcomeOf(a)).toEqual({ kind: 'cluster', cluster: { id: 'c1', version: 1, createdAt: 1 } });
    expect(outcomeOf(b)).toEqual({ kind: 'cluster', cluster: { id: 'c1', version: 1, createdAt: 1 } });
    expect(errorOf(c!).code).toBe('CONFLICT');
    expect(clusterInfo(fsm.view())).toMatchObject({ id: 'c1', version: 1, applied: { index: 3, term: 1 } });
  });

  it('keeps every version of a pipeline through replace and rollback', async () => {
    await run(
      init,
      { v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 1), desired: 'stopped', at: 10 },
      { v: 1, type: 'pipeline.replace', name: 'p', spec: spec('p', 2), at: 20 },
      { v: 1, type: 'pipeline.replace', name: 'p', spec: spec('p', 3), ifVersion: 2, at: 30 },
    );
    const [rolled] = await run({ v: 1, type: 'pipeline.rollback', name: 'p', to: 1, at: 40 });
    expect(outcomeOf(rolled)).toMatchObject({ kind: 'pipeline', pipeline: { version: 4, spec: spec('p', 1), createdAt: 10, updatedAt: 40 } });
    expect(pipelineVersions(fsm.view(), 'p').map((v) => [v.version, v.origin, v.from, (v.spec['source'] as { config: { count: number } }).config.count])).toEqual([
      [1, 'create', undefined, 1],
      [2, 'replace', undefined, 2],
      [3, 'replace', undefined, 3],
      [4, 'rollback', 1, 1],
    ]);
  });

  it('sets the desired state, and a second identical set changes nothing', async () => {
    await run(init, { v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 1), desired: 'stopped', at: 10 });
    await run({ v: 1, type: 'pipeline.setDesired', name: 'p', desired: 'paused', at: 20 });
    const [again] = await run({ v: 1, type: 'pipeline.setDesired', name: 'p', desired: 'paused', at: 30 });
    expect(outcomeOf(again)).toMatchObject({ pipeline: { desired: 'paused', updatedAt: 20, version: 1 } });
    expect(getPipeline(fsm.view(), 'p')).toMatchObject({ desired: 'paused', updatedAt: 20 });
  });

  it('rejects each kind of mistake with its own error, and changes nothing', async () => {
    await run(init, { v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 1), desired: 'running', at: 10 });
    const before = dump(fsm.view()) as { applied: unknown };
    const results = await run(
      { v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 9), desired: 'running', at: 11 },
      { v: 1, type: 'pipeline.replace', name: 'q', spec: spec('q', 1), at: 12 },
      { v: 1, type: 'pipeline.replace', name: 'p', spec: spec('p', 2), ifVersion: 7, at: 13 },
      { v: 1, type: 'pipeline.rollback', name: 'p', to: 5, at: 14 },
      { v: 1, type: 'pipeline.rollback', name: 'p', to: 1, at: 15 },
      { v: 1, type: 'pipeline.delete', name: 'q', at: 16 },
      { v: 1, type: 'node.remove', id: 'n9', at: 17 },
      { v: 1, type: 'pipeline.create', name: 'r', spec: spec('other', 1), desired: 'running', at: 18 },
      { v: 3, type: 'pipeline.delete', name: 'p', at: 19 },
    );
    expect(results.map((r) => [errorOf(r).code, errorOf(r).details])).toEqual([
      ['CONFLICT', { pipeline: 'p', version: 1 }],
      ['NOT_FOUND', { pipeline: 'q' }],
      ['CONFLICT', { pipeline: 'p', version: 1, expected: 7 }],
      ['NOT_FOUND', { pipeline: 'p', version: 5 }],
      ['CONFLICT', { pipeline: 'p', version: 1 }],
      ['NOT_FOUND', { pipeline: 'q' }],
      ['NOT_FOUND', { node: 'n9' }],
      ['INVALID_INPUT', { field: 'spec.name' }],
      ['INVALID_INPUT', { field: 'v' }],
    ]);
    expect(dump(fsm.view())).toEqual({ ...before, applied: { index: next - 1, term: 1 } });
  });

  it('deletes a pipeline with every version, and a new one of that name starts again at version 1', async () => {
    await run(
      init,
      { v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 1), desired: 'running', at: 1 },
      { v: 1, type: 'pipeline.replace', name: 'p', spec: spec('p', 2), at: 2 },
    );
    expect(outcomeOf((await run({ v: 1, type: 'pipeline.delete', name: 'p', ifVersion: 2, at: 3 }))[0])).toEqual({ kind: 'pipelineDeleted', name: 'p', version: 2 });
    expect(fsm.view().versions('p')).toEqual([]);
    expect(outcomeOf((await run({ v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 5), desired: 'running', at: 4 }))[0])).toMatchObject({ pipeline: { version: 1 } });
    expect(fsm.view().versions('p').map((v) => v.version)).toEqual([1]);
  });

  it('upserts and removes nodes', async () => {
    const node = { id: 'n1', raftAddress: '127.0.0.1:4002', httpAddress: '127.0.0.1:4001', role: 'voter' as const, labels: { zone: 'a' } };
    await run(init, { v: 1, type: 'node.upsert', node, at: 5 }, { v: 1, type: 'node.upsert', node: { ...node, id: 'n2', role: 'learner' }, at: 6 });
    await run({ v: 1, type: 'node.upsert', node: { ...node, labels: { zone: 'b' } }, at: 7 });
    expect(listNodes(fsm.view()).map((n) => [n.id, n.role, n.labels['zone'], n.updatedAt])).toEqual([
      ['n1', 'voter', 'b', 7],
      ['n2', 'learner', 'a', 6],
    ]);
    expect(outcomeOf((await run({ v: 1, type: 'node.remove', id: 'n1', at: 8 }))[0])).toEqual({ kind: 'nodeRemoved', id: 'n1' });
    expect(listNodes(fsm.view()).map((n) => n.id)).toEqual(['n2']);
  });

  it('sees the earlier commands of its own batch', async () => {
    const results = await fsm.apply(
      entries(
        [init, { v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 1), desired: 'running', at: 1 }, { v: 1, type: 'pipeline.replace', name: 'p', spec: spec('p', 2), ifVersion: 1, at: 2 }],
        1,
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
    expect(getPipeline(fsm.view(), 'p').version).toBe(2);
    // A delete lists the versions to remove: it must see those written earlier in the same batch.
    await fsm.apply(
      entries(
        [
          { v: 1, type: 'pipeline.replace', name: 'p', spec: spec('p', 3), at: 3 },
          { v: 1, type: 'pipeline.delete', name: 'p', at: 4 },
        ],
        4,
      ),
    );
    expect(fsm.view().versions('p')).toEqual([]);
  });

  it('validates a command against the current state before it is proposed, as apply would', async () => {
    await run(init, { v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 1), desired: 'running', at: 1 });
    expect(() => fsm.validate({ v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 1), desired: 'running', at: 2 })).toThrow(/already exists/);
    expect(() => fsm.validate({ v: 1, type: 'pipeline.rollback', name: 'p', to: 3, at: 2 })).toThrow(/no version 3/);
    expect(fsm.validate({ v: 1, type: 'pipeline.replace', name: 'p', spec: spec('p', 2), at: 2 })).toMatchObject({ type: 'pipeline.replace' });
    expect(fsm.appliedIndex()).toBe(2);
  });

  it('skips entries at or below the applied index', async () => {
    await run(init, { v: 1, type: 'pipeline.create', name: 'p', spec: spec('p', 1), desired: 'running', at: 1 });
    const before = dump(fsm.view());
    const again = await fsm.apply(entries([{ v: 1, type: 'pipeline.replace', name: 'p', spec: spec('p', 2), at: 2 }], 2));
    expect(again).toEqual([{ status: 'skipped', index: 2 }]);
    expect(dump(fsm.view())).toEqual(before);
    expect(() => outcomeOf(again[0])).toThrow(/no result of its own/);
  });

  it('rejects an entry whose bytes decode to more than JSON (a msgpack timestamp), and goes on applying', async () => {
    // Another encoder (a newer node, a hostile peer) may put any msgpack type in the log; one must not stop every node.
    const dated = new Packr({ useRecords: false }).pack({ v: 1, type: 'pipeline.create', name: 'p', spec: { when: new Date(0) }, desired: 'running', at: 1 });
    const results = await fsm.apply([
      ...entries([init], 1),
      { index: 2, term: 1, type: 0, data: dated },
      ...entries([{ v: 1, type: 'pipeline.create', name: 'q', spec: spec('q', 1), desired: 'running', at: 2 }], 3),
    ]);
    expect(results.map((r) => r.status)).toEqual(['applied', 'rejected', 'applied']);
    expect(errorOf(results[1]!).message).toMatch(/Date object/);
    expect(fsm.view().pipeline('p')).toBeUndefined();
  });

  it('stores a rejected undecodable entry as applied, with an INVALID_INPUT result', async () => {
    const [r] = await fsm.apply([{ index: 1, term: 2, type: 0, data: encodeCanonical('x').subarray(0, 0) }]);
    expect(errorOf(r!).code).toBe('INVALID_INPUT');
    expect(fsm.applied()).toEqual({ index: 1, term: 2 });
  });
});
