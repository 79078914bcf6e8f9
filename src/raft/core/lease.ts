/**
 * How long a leader may serve reads on its lease (`leaseReads`), and why that is safe.
 *
 * A follower that hears a heartbeat resets its election timer and, for the next `electionTick` of its
 * ticks, ignores (pre-)votes that TimeoutNow did not start (leader stickiness, check-quorum). Its ticks
 * come from a timer: the first may fire at once, so that is at least `(electionTick - 1) · tickMs` of its
 * time. No candidate can win without a vote from a quorum that echoed a heartbeat sent at `t`, so no new
 * leader exists before `t + (electionTick - 1) · tickMs` on the followers' clocks. The leader measures
 * from the send time of the latest round a quorum echoed (taken when the heartbeat is built, never later
 * than it left) with its own clock, and both clocks may run `MAX_CLOCK_DRIFT` off real time.
 *
 * What else the rule needs, kept in `raft.ts`: a voter that starts (maybe forgetting a heartbeat it
 * echoed) ignores votes for one election timeout; a leader that started a transfer (TimeoutNow
 * bypasses stickiness, and a delayed one may arrive late) serves no lease read for the rest of its term;
 * a leader removed from the voters serves none.
 */

/** The fraction by which any node's clock (timers included) may run fast or slow. */
export const MAX_CLOCK_DRIFT = 0.1;

/** The lease, in milliseconds of the leader's clock, from the send time of a quorum-echoed heartbeat. */
export function leaseDurationMs(electionTick: number, tickMs: number): number {
  return (electionTick - 1) * tickMs * (1 - MAX_CLOCK_DRIFT) * (1 - MAX_CLOCK_DRIFT);
}
