/**
 * Failover time: kill -9 the leader, then time until some survivor acknowledges a write (so a new
 * leader was elected, committed its no-op and applied the write). Every survivor is tried in
 * parallel, in a tight loop, so the figure measures the cluster and not the client's retry policy.
 * The killed node is restarted from its disk and caught up before the next round.
 */
import type { KvCluster } from './kv-cluster.js';
import { poll } from './poll.js';

export interface FailoverResult {
  readonly round: number;
  readonly killed: string;
  readonly new_leader: string;
  readonly failover_ms: number;
  readonly term_before: number;
  readonly term_after: number;
}

const GIVE_UP_MS = 30_000;
const ATTEMPT_TIMEOUT_MS = 250;

export async function measureFailover(cluster: KvCluster, round: number): Promise<FailoverResult> {
  const old = await cluster.leader(30_000);
  const survivors = cluster.running().filter((id) => id !== old.id);
  const key = `failover/${round}`;
  const started = process.hrtime.bigint();
  await cluster.kill(old.id, 'SIGKILL');
  let winner: { id: string; at: bigint } | undefined;
  const deadline = Date.now() + GIVE_UP_MS;

  const tryNode = async (id: string): Promise<void> => {
    while (!winner && Date.now() < deadline) {
      try {
        const r = await cluster.client.put(cluster.http(id), key, String(round), ATTEMPT_TIMEOUT_MS);
        if (r.status === 200) {
          winner ??= { id, at: process.hrtime.bigint() };
          return;
        }
      } catch {
        // Timed out or refused: still electing. Try again.
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  await Promise.all(survivors.map(tryNode));
  if (!winner) throw new Error(`no survivor committed a write within ${GIVE_UP_MS} ms of killing ${old.id}`);
  const elected = winner as { id: string; at: bigint };
  const after = await cluster.status(elected.id);
  const result: FailoverResult = {
    round,
    killed: old.id,
    new_leader: elected.id,
    failover_ms: +(Number(elected.at - started) / 1e6).toFixed(1),
    term_before: old.status.term,
    term_after: after.term,
  };

  await cluster.start(old.id);
  const target = after.commit;
  await poll(`${old.id} to catch up to ${target} after restart`, async () => (await cluster.status(old.id)).applied >= target, 60_000);
  return result;
}
