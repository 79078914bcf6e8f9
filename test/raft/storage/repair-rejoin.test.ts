import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { moveDataDirAside } from '../../../src/raft/storage/data-dir-repair.js';
import { openDiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { WalCorruptError } from '../../../src/raft/storage/wal-errors.js';
import { REC_ENTRY } from '../../../src/raft/storage/wal-record.js';
import { TestCluster } from '../node/cluster.js';
import { waitFor } from '../transport/wait.js';
import { flipByte, rawRecords, segmentFiles } from './wal-files.js';

describe('the repair path for a node whose WAL is corrupt (docs/raft.md)', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('refuses to start it; removed, moved aside and rejoined under a new id, it catches up by snapshot', async () => {
    cluster = await TestCluster.create({ snapshotThreshold: 30, trailingEntries: 5, snapshotChunkBytes: 1024 });
    await cluster.found(['n1', 'n2', 'n3']);
    for (let i = 0; i < 40; i++) await cluster.putViaLeader(`k${i}`, `v${i}`);
    let leader = await cluster.leader();
    const victim = leader.id === 'n3' ? 'n2' : 'n3';
    await waitFor(`${victim} applied everything`, () => cluster!.get(victim).kv.data.size === 40);
    await cluster.stop(victim);

    // A bit flips in an acknowledged entry in the middle of its WAL.
    const dir = join(cluster.root, victim);
    const segments = await segmentFiles(join(dir, 'wal'));
    const last = segments.at(-1)!;
    const entries = (await rawRecords(last)).filter((r) => r.type === REC_ENTRY);
    const victimRecord = entries[Math.floor(entries.length / 2)]!;
    await flipByte(last, victimRecord.end - 1, 0x20);
    await expect(openDiskStorage(dir)).rejects.toBeInstanceOf(WalCorruptError);

    leader = await cluster.leader();
    await leader.node.removeServer(victim);
    const aside = await moveDataDirAside(dir);
    expect(aside.startsWith(`${dir}.corrupt-`)).toBe(true);
    for (let i = 40; i < 80; i++) await cluster.putViaLeader(`k${i}`, `v${i}`);
    leader = await cluster.leader();
    await waitFor('the leader compacts past the removed node', () => leader.node.status().firstIndex > 40);

    const fresh = await cluster.start('n9', { join: true });
    await leader.node.addLearner({ id: 'n9', address: cluster.address('n9') });
    await waitFor('the new member catches up', () => fresh.kv.data.size === 80, 20_000);
    expect(fresh.kv.restored.length).toBeGreaterThanOrEqual(1);
    await leader.node.promote('n9');
    await cluster.putViaLeader('after', 'yes');
    await waitFor('the new voter applies new entries', () => fresh.kv.get('after') === 'yes');
    expect(leader.node.status().membership.voters.map((v) => v.id).sort()).toEqual(['n1', 'n2', 'n3', 'n9'].filter((id) => id !== victim));
  });
});
