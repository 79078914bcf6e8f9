import { WireError } from '../../core/errors.js';
import type { Position } from '../../core/record.js';

/** Next offset to read, by partition: what a kafka source's checkpoint stores (`{ offsets: { "0": 1200 } }`). */
export type NextOffsets = Record<string, number>;

/** A record's position: its partition and offset. */
export interface RecordPosition {
  readonly partition: number;
  readonly offset: number;
}

/** The offsets of a checkpoint position, or undefined for none; anything else is not a kafka checkpoint. */
export function offsetsOf(position: Position | undefined): NextOffsets | undefined {
  if (position === undefined || position === null) return undefined;
  const offsets = typeof position === 'object' && !Array.isArray(position) ? position.offsets : undefined;
  if (offsets === null || typeof offsets !== 'object' || Array.isArray(offsets)) {
    throw new WireError('INVALID_INPUT', `kafka source: the checkpoint ${JSON.stringify(position)} is not a kafka position`, { position });
  }
  const out: NextOffsets = {};
  for (const [partition, next] of Object.entries(offsets)) {
    if (!/^\d+$/.test(partition) || typeof next !== 'number' || !Number.isSafeInteger(next) || next < 0) {
      throw new WireError('INVALID_INPUT', `kafka source: the checkpoint's offset ${JSON.stringify(next)} of partition ${partition} is not an offset`, { position });
    }
    out[partition] = next;
  }
  return out;
}

/** A record position's partition and offset, or undefined for anything else. */
export function recordPosition(position: Position): RecordPosition | undefined {
  if (position === null || typeof position !== 'object' || Array.isArray(position)) return undefined;
  const { partition, offset } = position;
  return typeof partition === 'number' && typeof offset === 'number' ? { partition, offset } : undefined;
}

/**
 * What each batch delivered, until a checkpoint takes its offsets. The engine acknowledges records in the order they
 * were read, by the position of the last one a checkpoint covers (any record: under `rate_limit` a batch goes on in
 * slices), so a FIFO of batches finds it. Bounded by the engine's in-flight window: each batch is acknowledged or
 * the run ends. A batch is kept as the offsets before it and its records' partitions and offsets, not the records.
 */
export class DeliveredOffsets {
  private readonly batches: { readonly before: NextOffsets; readonly at: Float64Array }[] = [];
  private head = 0;
  /** Offsets a checkpoint took and whose ack has not come yet (one or two: saves are chained). */
  private readonly taken: { readonly at: RecordPosition; readonly offsets: NextOffsets }[] = [];

  /** Records a batch: the offsets before it (a copy the caller will not change) and its records' positions. */
  delivered(before: NextOffsets, positions: readonly RecordPosition[]): void {
    const at = new Float64Array(positions.length * 2);
    for (let i = 0; i < positions.length; i++) {
      at[2 * i] = positions[i]!.partition;
      at[2 * i + 1] = positions[i]!.offset;
    }
    this.batches.push({ before, at });
  }

  /** The offsets right after the record at `position` (for a checkpoint); the batches before its own are dropped. */
  through(position: Position): NextOffsets {
    const at = recordPosition(position);
    while (at !== undefined && this.head < this.batches.length) {
      const batch = this.batches[this.head]!;
      const index = indexOf(batch.at, at);
      if (index < 0) {
        this.head++;
        continue;
      }
      const offsets = { ...batch.before };
      for (let i = 0; i <= index; i++) offsets[batch.at[2 * i]!] = batch.at[2 * i + 1]! + 1;
      this.compact();
      // Acks come after their checkpoint's save, and the next checkpoint may be taken before it.
      this.taken.push({ at, offsets });
      return offsets;
    }
    throw new WireError('INTERNAL', `kafka source: no record delivered is at ${JSON.stringify(position)}`, { position });
  }

  /** The offsets a checkpoint at `position` took (`through`), for its ack; those of earlier checkpoints are dropped. */
  checkpointed(position: Position): NextOffsets | undefined {
    const at = recordPosition(position);
    while (at !== undefined && this.taken.length > 0) {
      const taken = this.taken.shift()!;
      if (taken.at.partition === at.partition && taken.at.offset === at.offset) return taken.offsets;
    }
    return undefined;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches.splice(0, this.head);
      this.head = 0;
    }
  }
}

function indexOf(at: Float64Array, position: RecordPosition): number {
  for (let i = 0; i < at.length; i += 2) if (at[i] === position.partition && at[i + 1] === position.offset) return i / 2;
  return -1;
}
