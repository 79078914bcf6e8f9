/**
 * The key-value state machine replicated by `kv-node`: a Map of string keys to string values.
 * Commands and snapshots are msgpack; the map is kept in memory only, so after a restart the driver
 * restores the newest snapshot and replays the log behind it (appliedIndex stays unimplemented on purpose).
 */
import { pack, unpack } from 'msgpackr';
import type { Entry, SnapshotMeta, StateMachine } from '../../src/raft/index.js';

/** A put, encoded as a two-element msgpack array (the smallest form, for the benchmark's hot path). */
export type KvCommand = readonly [key: string, value: string];

export interface KvPutResult {
  readonly created: boolean;
}

/** Snapshot data is streamed in pieces of this size, so the snapshot store never holds it all at once. */
const PIECE_BYTES = 64 * 1024;

export function encodePut(key: string, value: string): Uint8Array {
  return pack([key, value] satisfies KvCommand);
}

function decodePut(data: Uint8Array): KvCommand {
  const c: unknown = unpack(data);
  if (!Array.isArray(c) || c.length !== 2 || typeof c[0] !== 'string' || typeof c[1] !== 'string') {
    throw new Error('kv: a committed entry is not a put command');
  }
  return [c[0], c[1]];
}

export class KvStateMachine implements StateMachine {
  private readonly data = new Map<string, string>();
  /** How many snapshots were restored (a node that caught up by InstallSnapshot shows one or more). */
  restores = 0;
  /** The index of the last snapshot restored, 0 if none. */
  restoredIndex = 0;

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  get size(): number {
    return this.data.size;
  }

  /** Every pair, sorted by key: what tests compare across nodes. */
  entries(): Array<[string, string]> {
    return [...this.data].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  apply(entries: readonly Entry[]): KvPutResult[] {
    return entries.map((e) => {
      const [key, value] = decodePut(e.data);
      const created = !this.data.has(key);
      this.data.set(key, value);
      return { created };
    });
  }

  /** Packs the map now (the driver calls this between applies, so it is exactly the applied state), then streams it. */
  snapshot(): AsyncIterable<Uint8Array> {
    const bytes: Uint8Array = pack([...this.data]);
    return (async function* () {
      for (let o = 0; o < bytes.length; o += PIECE_BYTES) yield bytes.subarray(o, Math.min(bytes.length, o + PIECE_BYTES));
    })();
  }

  async restore(data: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of data) parts.push(chunk);
    const pairs: unknown = unpack(Buffer.concat(parts));
    if (!Array.isArray(pairs)) throw new Error(`kv: snapshot ${meta.index} is not a list of pairs`);
    this.data.clear();
    for (const pair of pairs as unknown[]) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new Error(`kv: snapshot ${meta.index} holds a malformed pair`);
      }
      this.data.set(pair[0], pair[1]);
    }
    this.restores++;
    this.restoredIndex = meta.index;
  }
}
