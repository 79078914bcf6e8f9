import type { Batch, WireRecord } from '../core/record.js';

/** Collects records into batches of at most `limit`; full batches wait until the reader takes them. */
export class BatchBuilder {
  private current: WireRecord[] = [];
  private ready: Batch[] = [];

  constructor(private readonly limit: number) {}

  /** Adds a record (an arrow so it can be handed to line decoders as a callback). */
  readonly push = (record: WireRecord): void => {
    this.current.push(record);
    if (this.current.length === this.limit) {
      this.ready.push(this.current);
      this.current = [];
    }
  };

  /** The batches that filled up since the last call. */
  takeFull(): Batch[] {
    const full = this.ready;
    this.ready = [];
    return full;
  }

  /** The batch still filling, if it holds any record. */
  takePartial(): Batch | undefined {
    if (this.current.length === 0) return undefined;
    const partial = this.current;
    this.current = [];
    return partial;
  }
}
