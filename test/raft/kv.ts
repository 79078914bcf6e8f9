/**
 * A small key-value state machine for Raft tests: put, delete and compare-and-set on string keys.
 * Commands are JSON; a snapshot is the whole map as JSON, streamed in 16 KiB pieces.
 */
import type { Entry, SnapshotMeta } from '../../src/raft/core/types.js';
import type { StateMachine } from '../../src/raft/ports.js';

export type KvCommand =
  | { op: 'put'; key: string; value: string }
  | { op: 'del'; key: string }
  | { op: 'cas'; key: string; expect: string | null; value: string };

export type KvResult = { ok: true; previous: string | null } | { ok: false; current: string | null };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PIECE = 16 * 1024;

export const encodeCommand = (c: KvCommand): Uint8Array => encoder.encode(JSON.stringify(c));

export class KvStateMachine implements StateMachine {
  readonly data = new Map<string, string>();
  /** Every index applied, in order (tests check no index is applied twice or skipped). */
  readonly appliedIndexes: number[] = [];
  /** Every snapshot restored, in order. */
  readonly restored: SnapshotMeta[] = [];

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  apply(entries: readonly Entry[]): KvResult[] {
    return entries.map((e) => {
      this.appliedIndexes.push(e.index);
      const c = JSON.parse(decoder.decode(e.data)) as KvCommand;
      const previous = this.data.get(c.key) ?? null;
      switch (c.op) {
        case 'put':
          this.data.set(c.key, c.value);
          return { ok: true, previous };
        case 'del':
          this.data.delete(c.key);
          return { ok: true, previous };
        case 'cas':
          if (previous !== c.expect) return { ok: false, current: previous };
          this.data.set(c.key, c.value);
          return { ok: true, previous };
      }
    });
  }

  /** Captures the map now (the driver calls this between applies), then streams it. */
  snapshot(): AsyncIterable<Uint8Array> {
    const bytes = encoder.encode(JSON.stringify([...this.data]));
    return (async function* () {
      for (let o = 0; o < bytes.length; o += PIECE) yield bytes.subarray(o, o + PIECE);
    })();
  }

  async restore(data: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of data) parts.push(chunk);
    const pairs = JSON.parse(decoder.decode(Buffer.concat(parts))) as Array<[string, string]>;
    this.data.clear();
    for (const [k, v] of pairs) this.data.set(k, v);
    this.restored.push(meta);
    this.appliedIndexes.length = 0;
  }
}
