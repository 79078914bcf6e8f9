/**
 * Simulated time: a clock and a queue of events ordered by (time, insertion order). Ties run in the
 * order they were scheduled, which keeps a run a pure function of its seed.
 */
export type Action = () => void;

interface Event {
  readonly at: number;
  readonly seq: number;
  readonly action: Action;
}

/** A binary min-heap of events. */
export class EventQueue {
  private heap: Event[] = [];
  private seq = 0;
  private current = 0;

  /** Simulated milliseconds since the start of the run. */
  get now(): number {
    return this.current;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Runs `action` `delay` ms from now (0: after everything already due now). */
  schedule(delay: number, action: Action): void {
    if (!(delay >= 0)) throw new Error(`negative delay ${delay}`);
    this.push({ at: this.current + delay, seq: this.seq++, action });
  }

  /** Runs the next event; returns false when nothing is left before `until`. */
  runNext(until: number): boolean {
    const top = this.heap[0];
    if (top === undefined || top.at > until) {
      this.current = Math.max(this.current, until);
      return false;
    }
    this.pop();
    this.current = top.at;
    top.action();
    return true;
  }

  private less(a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: Event): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
