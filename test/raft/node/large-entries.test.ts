import { afterEach, describe, expect, it } from 'vitest';
import { maxEntryBytes } from '../../../src/raft/core/message-size.js';
import { waitFor } from '../transport/wait.js';
import { TestCluster } from './cluster.js';

const FRAME = 256 * 1024;

/** A put whose JSON command is about `bytes` long. */
const bigPut = (key: string, bytes: number): Uint8Array =>
  new TextEncoder().encode(JSON.stringify({ op: 'put', key, value: 'x'.repeat(bytes) }));

describe('RaftNode: entries near the transport frame limit', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('refuses a proposal too large for one frame with EntryTooLargeError, and keeps replicating', async () => {
    cluster = await TestCluster.create({ raft: { maxMessageBytes: FRAME } }, { maxFrameBytes: FRAME });
    await cluster.found(['n1', 'n2', 'n3']);
    const leader = await cluster.leader();
    const tooBig = new Uint8Array(maxEntryBytes(FRAME) + 1);
    await expect(leader.node.propose(tooBig)).rejects.toMatchObject({ name: 'EntryTooLargeError', code: 'INVALID_ARGUMENT', size: tooBig.length });
    const { index } = await leader.node.propose(bigPut('after', 100));
    for (const n of cluster.nodes.values()) await waitFor(`${n.id} applies`, () => n.node.status().applied >= index);
  });

  it('replicates a burst of entries that together exceed the frame limit, split over several appends', async () => {
    cluster = await TestCluster.create({ raft: { maxMessageBytes: FRAME, maxBytesPerMsg: 64 << 20 } }, { maxFrameBytes: FRAME });
    await cluster.found(['n1', 'n2', 'n3']);
    const leader = await cluster.leader();
    const done = await Promise.all(Array.from({ length: 6 }, (_, i) => leader.node.propose(bigPut(`k${i}`, 100 * 1024))));
    const last = Math.max(...done.map((d) => d.index));
    for (const n of cluster.nodes.values()) await waitFor(`${n.id} applies`, () => n.node.status().applied >= last);
    for (const n of cluster.nodes.values()) expect(n.kv.get('k5')?.length).toBe(100 * 1024);
  });
});
