/**
 * Calls a node answered without reaching Raft (refused by authentication, authorization, the rate limit or the
 * state's rules, or failed) go to the audit log in batches: one `audit.append` proposal per `intervalMs` at most,
 * of at most `MAX_AUDIT_BATCH` entries, so a flood of refused calls costs the cluster a bounded trickle of log
 * entries rather than one each. At most `maxPending` wait; beyond, calls are counted and recorded as one overflow
 * entry. A batch that cannot be written (no leader) waits for the next interval.
 */
import { MAX_AUDIT_BATCH, type AuditEntry } from './audit-records.js';

export interface AuditBatcherOptions {
  readonly append: (entries: readonly AuditEntry[]) => Promise<void>;
  readonly node: string;
  readonly onError: (error: Error) => void;
  readonly intervalMs?: number;
  readonly maxPending?: number;
}

export class AuditBatcher {
  private pending: AuditEntry[] = [];
  private overflow = 0;
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly maxPending: number;

  constructor(private readonly options: AuditBatcherOptions) {
    this.maxPending = options.maxPending ?? 4 * MAX_AUDIT_BATCH;
    this.timer = setInterval(() => void this.flush(), options.intervalMs ?? 1000);
    this.timer.unref();
  }

  add(entry: AuditEntry): void {
    if (this.pending.length >= this.maxPending) this.overflow++;
    else this.pending.push(entry);
  }

  /** Writes what waits, one batch at a time; resolves when this flush is over (written or left for later). */
  flush(): Promise<void> {
    this.flushing ??= this.writeBatch().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Writes everything waiting, batch after batch, until done or a batch fails (a node about to stop). */
  async drain(): Promise<void> {
    for (let left = Math.ceil(this.maxPending / MAX_AUDIT_BATCH) + 1; left > 0 && (this.pending.length > 0 || this.overflow > 0); left--) {
      const before = this.pending.length;
      await this.flush();
      if (this.pending.length >= before && this.overflow === 0) return;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.drain();
  }

  private async writeBatch(): Promise<void> {
    if (this.overflow > 0 && this.pending.length < MAX_AUDIT_BATCH) {
      this.pending.push(overflowEntry(this.options.node, this.overflow));
      this.overflow = 0;
    }
    const batch = this.pending.slice(0, MAX_AUDIT_BATCH);
    if (batch.length === 0) return;
    try {
      await this.options.append(batch);
      this.pending = this.pending.slice(batch.length);
    } catch (error) {
      this.options.onError(error as Error);
    }
  }
}

function overflowEntry(node: string, count: number): AuditEntry {
  return { at: Date.now(), node, address: '', token: null, role: null, action: `${count} calls not recorded: the audit queue was full`, target: null, command: null, result: 'UNAVAILABLE', status: null };
}
