/** A `raft/clock.ts` Clock that moves only when a test advances it, running the timers that come due in order. */
import type { Clock, TimerHandle } from '../../../src/raft/clock.js';

interface Timer {
  at: number;
  readonly every: number | undefined;
  readonly fn: () => void;
}

export class ManualClock implements Clock {
  private t = 0;
  private readonly timers = new Set<Timer>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.t + ms, every: undefined, fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(timer: TimerHandle): void {
    this.timers.delete(timer as Timer);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.t + ms, every: ms, fn };
    this.timers.add(timer);
    return timer;
  }

  clearInterval(timer: TimerHandle): void {
    this.timers.delete(timer as Timer);
  }

  setImmediate(fn: () => void): void {
    setImmediate(fn);
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: Timer | undefined;
      for (const timer of this.timers) if (timer.at <= end && (!due || timer.at < due.at)) due = timer;
      if (!due) break;
      this.t = due.at;
      if (due.every === undefined) this.timers.delete(due);
      else due.at += due.every;
      due.fn();
    }
    this.t = end;
  }
}
