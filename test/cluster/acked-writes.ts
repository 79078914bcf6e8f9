/**
 * Writes keys to a kv-node cluster the way a careful client does: to the node it believes leads,
 * following 421 redirects, moving to another node on errors, retrying the same (idempotent) put until
 * it is acknowledged or the deadline passes. Records exactly which writes were acknowledged.
 */
import type { KvCluster } from '../../bench/raft/kv-cluster.js';

export interface WriteLog {
  /** key → value, for every put that got a 200. */
  readonly acked: Map<string, string>;
  /** Puts that ended without an acknowledgement (deadline passed). */
  readonly failed: string[];
}

export async function writeKeys(
  cluster: KvCluster,
  keys: readonly string[],
  options: { concurrency: number; deadline: number; valueOf: (key: string) => string; onAck?: (count: number) => void },
): Promise<WriteLog> {
  const log: WriteLog = { acked: new Map(), failed: [] };
  let next = 0;
  let guess: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const value = options.valueOf(key);
      let attempt = 0;
      for (;;) {
        if (Date.now() > options.deadline) {
          log.failed.push(key);
          break;
        }
        const running = cluster.running().map((id) => cluster.http(id));
        const target = guess !== undefined && running.includes(guess) ? guess : running[attempt % running.length]!;
        attempt++;
        try {
          const r = await cluster.client.put(target, key, value, 3_000);
          if (r.status === 200) {
            log.acked.set(key, value);
            options.onAck?.(log.acked.size);
            guess = target;
            break;
          }
          const leaderHttp = r.body.leaderHttp;
          guess = r.status === 421 && typeof leaderHttp === 'string' ? leaderHttp : undefined;
        } catch {
          guess = undefined; // the node is gone or hung: try another
        }
        if (guess === undefined) await new Promise((r) => setTimeout(r, 25));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return log;
}
