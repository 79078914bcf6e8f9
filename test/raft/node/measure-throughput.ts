/**
 * Rough throughput of the driver: a 3-node cluster in this process (TCP on 127.0.0.1, WAL storage), closed-loop
 * proposers of 100-byte puts at several concurrencies. Run: `npx tsx test/raft/node/measure-throughput.ts [seconds]`.
 * Not a benchmark of record (three nodes share one event loop here); `npm run bench:raft` uses processes.
 */
import { encodeCommand } from '../kv.js';
import { TestCluster } from './cluster.js';

const seconds = Number(process.argv[2] ?? 3);
const cluster = await TestCluster.create({ tickMs: 100, snapshotThreshold: 50_000, trailingEntries: 5_000 });
try {
  await cluster.found(['n1', 'n2', 'n3']);
  const leader = await cluster.leader();
  const value = 'v'.repeat(100);
  for (const concurrency of [1, 16, 64]) {
    const latencies: number[] = [];
    const deadline = Date.now() + seconds * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < deadline) {
          const t0 = process.hrtime.bigint();
          await leader.node.propose(encodeCommand({ op: 'put', key: `k${n++ % 1000}`, value }));
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const pct = (p: number): number => Number(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(2));
    console.log(JSON.stringify({ concurrency, opsPerSec: Math.round(latencies.length / seconds), p50ms: pct(0.5), p99ms: pct(0.99) }));
  }
} finally {
  await cluster.close();
}
