import type { ChangePosition } from './cdc-position.js';

interface Transaction {
  readonly lsn: bigint;
  /** The end of its commit record, once the commit arrived: what the server is told once the transaction is done. */
  end: bigint | undefined;
  /** Changes seen so far (delivered or skipped): the last one's place. */
  seq: number;
  /** Changes handed to the engine. */
  delivered: number;
}

/**
 * Which WAL position may be confirmed to the server: the end of the last transaction all of whose changes the engine
 * acknowledged, in commit order. A transaction with no change to deliver (all skipped, or none published) is done once
 * those before it are. With nothing outstanding, the server's own progress (a keepalive's WAL end) may be confirmed
 * too, so a slot whose tables see no change does not keep WAL forever. Pure: the source feeds it what it receives.
 */
export class TransactionProgress {
  private readonly transactions: Transaction[] = [];
  private head = 0;
  private acked: ChangePosition | undefined;
  private confirmableLsn: bigint;

  constructor(start: bigint) {
    this.confirmableLsn = start;
  }

  /** The highest LSN safe to confirm. */
  get confirmable(): bigint {
    return this.confirmableLsn;
  }

  /** Whether every change received has been acknowledged and no transaction is half received. */
  get settled(): boolean {
    return this.head === this.transactions.length;
  }

  /** A transaction begins; false when it is one received before (after a reconnect), whose changes are all skipped. */
  begin(lsn: bigint): boolean {
    const tail = this.transactions[this.transactions.length - 1];
    if (tail !== undefined && this.head < this.transactions.length && lsn <= tail.lsn) {
      if (lsn < tail.lsn) return false;
      tail.seq = 0;
      tail.end = undefined;
      return true;
    }
    this.transactions.push({ lsn, end: undefined, seq: 0, delivered: 0 });
    return true;
  }

  /** The next change of the open transaction: its place. */
  next(): number {
    return ++this.transactions[this.transactions.length - 1]!.seq;
  }

  /** The change just counted goes to the engine. */
  deliver(): void {
    this.transactions[this.transactions.length - 1]!.delivered++;
  }

  commit(end: bigint): void {
    const tail = this.transactions[this.transactions.length - 1];
    if (tail !== undefined && tail.end === undefined) tail.end = end;
    this.advance();
  }

  ack(at: ChangePosition): void {
    if (this.acked === undefined || at.lsn > this.acked.lsn || (at.lsn === this.acked.lsn && at.seq > this.acked.seq)) this.acked = at;
    this.advance();
  }

  /** The server has sent everything up to `walEnd`: with nothing outstanding, that much is confirmable. */
  idle(walEnd: bigint): void {
    if (this.settled && walEnd > this.confirmableLsn) this.confirmableLsn = walEnd;
  }

  /**
   * The connection was lost: what was received and not delivered is gone and will come again. Keeps the
   * transactions delivered up to `lastDelivered` (the last one's commit to be received again).
   */
  rewind(lastDelivered: ChangePosition | undefined): void {
    while (this.transactions.length > this.head) {
      const tail = this.transactions[this.transactions.length - 1]!;
      if (lastDelivered === undefined || tail.lsn > lastDelivered.lsn) this.transactions.pop();
      else {
        if (tail.lsn === lastDelivered.lsn) tail.end = undefined;
        break;
      }
    }
  }

  private advance(): void {
    const acked = this.acked;
    while (this.head < this.transactions.length) {
      const t = this.transactions[this.head]!;
      if (t.end === undefined) break;
      const covered = t.delivered === 0 || (acked !== undefined && (acked.lsn > t.lsn || (acked.lsn === t.lsn && acked.seq >= t.seq)));
      if (!covered) break;
      if (t.end > this.confirmableLsn) this.confirmableLsn = t.end;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.transactions.length) {
      this.transactions.splice(0, this.head);
      this.head = 0;
    }
  }
}
