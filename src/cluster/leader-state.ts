/**
 * When a leader's own state may answer. A leader applies an entry only after committing it, and a new leader does not
 * even know which of its predecessor's last entries are committed until an entry of its own term commits (Raft §8:
 * the no-op it appends when elected). Until it has applied that far, its state can lack a pipeline the previous
 * leader committed and a follower already acknowledged, and a rule checked against it refuses a good write
 * (NOT_FOUND for a PUT sent through a follower just after an election).
 *
 * So a refusal found on the leader's state stands only once the leader has applied its own term's first entry and
 * everything committed when the refusal was found (etcd waits the same way before serving a read index after an
 * election); it is then checked again. An acceptance needs no wait: applying the entry checks the rules again, on the
 * state at its index.
 */
export interface LeaderRaftView {
  readonly role: string;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  /** The last index of the log: on a leader, at or after the no-op it appended when elected. */
  readonly lastIndex: number;
}

export class LeaderState {
  private term = -1;
  /** An index at or after this term's first entry (the leader's no-op), as first seen in this term. */
  private termStart = 0;

  constructor(
    private readonly raft: () => LeaderRaftView,
    private readonly waitApplied: (index: number, timeoutMs: number) => Promise<void>,
  ) {}

  /** The index this node must have applied for its state to hold every entry committed so far (0 unless it leads). */
  currentIndex(): number {
    const s = this.raft();
    if (s.role !== 'leader') return 0;
    if (s.term !== this.term) {
      this.term = s.term;
      this.termStart = s.lastIndex;
    }
    return Math.max(this.termStart, s.commit);
  }

  /** Resolves once this leader's state holds every entry committed so far. */
  async caughtUp(timeoutMs: number): Promise<void> {
    const index = this.currentIndex();
    if (this.raft().applied < index) await this.waitApplied(index, timeoutMs);
  }

  /** `check` on this leader's state; a failure is checked again once the state holds everything committed. */
  async check<T>(check: () => T, timeoutMs: number): Promise<T> {
    try {
      return check();
    } catch (error) {
      const index = this.currentIndex();
      if (this.raft().applied >= index) throw error;
      await this.waitApplied(index, timeoutMs);
      return check();
    }
  }
}
