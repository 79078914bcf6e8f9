import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry, Membership } from '../../../src/raft/core/types.js';
import { RaftNode } from '../../../src/raft/node.js';
import type { StateMachine } from '../../../src/raft/ports.js';
import type { WireMessage } from '../../../src/raft/snapshot/install-messages.js';
import { crc32c } from '../../../src/raft/storage/crc32c.js';
import { openDiskStorage, type DiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { TcpTransport } from '../../../src/raft/transport/tcp.js';
import { waitFor } from '../transport/wait.js';
import { frameOf, handshakeFrame, hostileFrame, prng, type FrameKind, type Target } from './frames.js';

const CLUSTER = 'fuzz';
const FRAMES = 100_000;
/** Of those, the frames sent to a follower (the rest go to the leader). */
const FOLLOWER_FRAMES = 20_000;
const BATCH = 1_000;
const SEED = 20261203;

/** Records what it applies, and never throws on data it does not understand: the log, not the state machine, is under test. */
class RecordingMachine implements StateMachine {
  readonly applied = new Map<number, string>();
  readonly order: number[] = [];

  apply(entries: readonly Entry[]): unknown[] {
    for (const e of entries) {
      this.applied.set(e.index, Buffer.from(e.data).toString('hex'));
      this.order.push(e.index);
    }
    return entries.map(() => undefined);
  }

  snapshot(): AsyncIterable<Uint8Array> {
    const bytes = Buffer.from(JSON.stringify([...this.applied]));
    return (async function* () {
      yield bytes;
    })();
  }

  async restore(data: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of data) parts.push(chunk);
    this.applied.clear();
    for (const [i, v] of JSON.parse(Buffer.concat(parts).toString()) as Array<[number, string]>) this.applied.set(i, v);
  }
}

interface Member {
  id: string;
  node: RaftNode;
  storage: DiskStorage;
  transport: TcpTransport<WireMessage>;
  machine: RecordingMachine;
  fatal: Error[];
}

describe('live nodes fed 100,000 hostile frames over their real TCP transport', () => {
  let root: string;
  const members: Member[] = [];
  /** Broken monotonicity seen by the sampler, as messages. */
  const violations: string[] = [];
  let sampler: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'wire-raft-fuzz-'));
    const ids = ['a', 'b', 'c'];
    const transports = await Promise.all(
      ids.map((id) => TcpTransport.listen<WireMessage>({ nodeId: id, clusterId: CLUSTER, backoffInitialMs: 10, backoffMaxMs: 200 })),
    );
    const membership: Membership = { voters: ids.map((id, i) => ({ id, address: transports[i]!.address })), learners: [] };
    for (const [i, id] of ids.entries()) {
      const machine = new RecordingMachine();
      const random = prng(SEED + i);
      const storage = await openDiskStorage(join(root, id));
      const node = await RaftNode.start({
        id,
        address: transports[i]!.address,
        membership,
        storage,
        transport: transports[i]!,
        stateMachine: machine,
        tickMs: 20,
        electionTicks: 10,
        random,
        maxSnapshotBytes: 1 << 20,
      });
      const fatal: Error[] = [];
      node.on('fatal', (err) => fatal.push(err));
      members.push({ id, node, storage, transport: transports[i]!, machine, fatal });
    }
    const last = new Map<string, { term: number; commit: number }>();
    sampler = setInterval(() => {
      for (const m of members) {
        const s = m.node.status();
        const prev = last.get(m.id);
        if (prev && s.term < prev.term) violations.push(`${m.id}: term ${prev.term} -> ${s.term}`);
        if (prev && s.commit < prev.commit) violations.push(`${m.id}: commit ${prev.commit} -> ${s.commit}`);
        if (s.commit > s.lastIndex) violations.push(`${m.id}: commit ${s.commit} beyond last index ${s.lastIndex}`);
        last.set(m.id, { term: s.term, commit: s.commit });
      }
    }, 5);
  });

  afterAll(async () => {
    clearInterval(sampler);
    for (const m of members) await m.node.stop();
    await rm(root, { recursive: true, force: true });
  });

  const leader = (): Promise<Member> =>
    waitFor(
      'a leader',
      () => {
        const leaders = members.filter((m) => m.node.status().role === 'leader');
        return leaders.length === 1 ? leaders[0] : undefined;
      },
      30_000,
      20,
    );

  /** Proposes through whoever leads, retrying while leadership settles. */
  const propose = async (data: Uint8Array): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      const l = await leader();
      try {
        return (await l.node.propose(data, 5_000)).index;
      } catch (err) {
        if (attempt >= 10) throw err;
      }
    }
  };

  const frameCount = (m: Member): number => {
    const s = m.transport.stats();
    return s.receivedFrames + s.undecodableFrames;
  };

  /** Opens an attacker connection to `m` under id `as`; resolves once connected and the handshake is written. */
  const attack = async (m: Member, as: string): Promise<net.Socket> => {
    const [host, port] = m.transport.address.split(':');
    const socket = net.connect(Number(port), host!);
    socket.on('error', () => undefined);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(handshakeFrame(as, CLUSTER));
    return socket;
  };

  it('one heartbeat frame from any id at the leader’s term does not stop the leader; a NaN term is dropped and counted', async () => {
    const target = await leader();
    const { term } = target.node.status();
    const dropped = target.node.status().droppedMessages;
    const socket = await attack(target, 'mallory');
    const heartbeat = { type: 'heartbeat', from: 'mallory', to: target.id, term, commit: 0, readRound: 0 };
    socket.write(Buffer.concat([frameOf(heartbeat), frameOf({ ...heartbeat, term: Number.NaN })]));
    await waitFor('both frames counted', () => target.node.status().droppedMessages >= dropped + 2);
    socket.destroy();
    expect(target.node.status()).toMatchObject({ role: 'leader', term });
    expect(target.fatal).toEqual([]);
    await propose(Buffer.from('after one heartbeat'));
  });

  it('a whole, well-formed snapshot from a node outside the configuration never reaches the snapshot store', async () => {
    const target = members.find((m) => m.node.status().role !== 'leader')!;
    const s = target.node.status();
    const data = new Uint8Array(16).fill(7);
    const snapshot = { index: s.lastIndex + 100, term: s.term + 5, membership: s.membership, size: data.length, checksum: crc32c(data) };
    const dropped = s.droppedMessages;
    const socket = await attack(target, 'mallory');
    socket.write(frameOf({ type: 'snapshotChunk', from: 'mallory', to: target.id, term: s.term + 5, snapshot, offset: 0, data }));
    await waitFor('the chunk dropped', () => target.node.status().droppedMessages > dropped);
    socket.destroy();
    expect(target.storage.snapshots.latest()).toBeUndefined();
    expect(target.node.status()).toMatchObject({ term: s.term, snapshotIndex: 0 });
  });

  it('never stops, keeps its term and commit monotonic, and commits a proposal afterwards with logs that match', async () => {
    for (let i = 0; i < 19; i++) await propose(Buffer.from(`before-${i}`));
    const target = await leader();
    const follower = members.find((m) => m !== target)!;
    const random = prng(SEED);
    const kinds: Record<FrameKind, number> = { valid: 0, fields: 0, bytes: 0, random: 0 };

    /** Sends `count` mutated and random frames to `m` as a non-member, through its real socket and frame decoder. */
    const storm = async (m: Member, count: number): Promise<void> => {
      let socket = await attack(m, 'mallory');
      for (let sent = 0; sent < count; sent += BATCH) {
        const s = m.node.status();
        const t: Target = { from: 'mallory', to: m.id, term: s.term, lastIndex: s.lastIndex, membership: s.membership };
        const batch: Buffer[] = [];
        for (let i = 0; i < BATCH; i++) {
          const { kind, frame } = hostileFrame(t, random);
          kinds[kind]++;
          batch.push(frame);
        }
        if (socket.destroyed) socket = await attack(m, 'mallory');
        const before = frameCount(m);
        socket.write(Buffer.concat(batch));
        // Let the node work through each batch (bounded: a closed connection would lose the rest).
        await waitFor('the batch decoded', () => frameCount(m) >= before + BATCH || socket.destroyed, 20_000, 2);
        expect(m.fatal).toEqual([]);
      }
      socket.destroy();
    };
    const leaderFrames = FRAMES - FOLLOWER_FRAMES;
    await storm(target, leaderFrames);
    await storm(follower, FOLLOWER_FRAMES);

    // Plain random streams: random length prefixes too, so most of these connections end in a refusal.
    const streamRandom = prng(SEED + 100);
    for (let i = 0; i < 50; i++) {
      const s = await attack(target, `eve-${i}`);
      s.end(Buffer.from(Array.from({ length: 256 }, () => Math.floor(streamRandom() * 256))));
    }

    for (const [m, count] of [
      [target, leaderFrames],
      [follower, FOLLOWER_FRAMES],
    ] as const) {
      const stats = m.transport.stats();
      expect(stats.receivedFrames + stats.undecodableFrames).toBeGreaterThanOrEqual(count);
      expect(stats.undecodableFrames).toBeGreaterThan(0);
      expect(m.node.status().droppedMessages).toBeGreaterThan(count / 2);
    }
    expect(Object.values(kinds).reduce((a, b) => a + b)).toBe(FRAMES);
    expect(Object.values(kinds).every((n) => n > 0)).toBe(true);

    // Still serving: a proposal commits and every node applies it.
    const index = await propose(Buffer.from('after the storm'));
    await waitFor('every node applied it', () => members.every((m) => m.machine.applied.has(index)), 30_000);
    for (const m of members) expect(m.fatal).toEqual([]);
    expect(violations).toEqual([]);

    // The logs match: each node applied in increasing index order, the same data at every index, and
    // the same entries (no-ops and membership changes never reach the state machine).
    for (const m of members) expect(m.machine.order.every((x, i) => i === 0 || x > m.machine.order[i - 1]!)).toBe(true);
    const reference = [...members[0]!.machine.applied].filter(([i]) => i <= index);
    expect(reference.length).toBe(21);
    for (const m of members.slice(1)) expect([...m.machine.applied].filter(([i]) => i <= index)).toEqual(reference);
    expect(reference.at(-1)).toEqual([index, Buffer.from('after the storm').toString('hex')]);
  });
});
