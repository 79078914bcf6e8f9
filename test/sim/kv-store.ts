/**
 * The replicated key-value state machine the simulated nodes apply: put, get-free (reads go through
 * ReadIndex) and compare-and-set. Each command carries the id of the client operation it serves, so
 * the node a client waits on can answer it when the entry is applied there.
 */
import { pack, unpack } from 'msgpackr';

export type KvCommand =
  | { readonly id: string; readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly id: string; readonly op: 'cas'; readonly key: string; readonly expect: string | null; readonly value: string };

export type KvApplyResult = { readonly op: 'put' } | { readonly op: 'cas'; readonly ok: boolean };

export function encodeCommand(c: KvCommand): Uint8Array {
  return pack(c) as Uint8Array;
}

export function decodeCommand(data: Uint8Array): KvCommand {
  return unpack(data) as KvCommand;
}

export class KvStore {
  private data = new Map<string, string>();

  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  apply(c: KvCommand): KvApplyResult {
    if (c.op === 'put') {
      this.data.set(c.key, c.value);
      return { op: 'put' };
    }
    const ok = this.get(c.key) === c.expect;
    if (ok) this.data.set(c.key, c.value);
    return { op: 'cas', ok };
  }

  /** The whole map, in key order so equal states give equal bytes. */
  snapshot(): Uint8Array {
    return pack([...this.data].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) as Uint8Array;
  }

  restore(bytes: Uint8Array): void {
    this.data = new Map(unpack(bytes) as [string, string][]);
  }

  clear(): void {
    this.data = new Map();
  }
}
