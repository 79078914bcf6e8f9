/**
 * One node's view of simulated time, behind the production `Clock` port. Its clock may run fast or
 * slow (`setRate`: local ms per simulated ms, as a drifting oscillator) and the whole process may be
 * paused (`pause`: a long GC or a stopped VM) — timers, immediates and deliveries wait until it
 * resumes. `kill` ends an incarnation: its timers never fire again.
 */
import type { Clock, TimerHandle } from '../../src/raft/clock.js';
import type { EventQueue } from './clock.js';

interface SimTimer {
  cancelled: boolean;
}

export class NodeClock implements Clock {
  private generation = 0;
  private rate = 1;
  /** Local time at simulated time `baseSim`. */
  private baseLocal: number;
  private baseSim: number;
  private pausedUntil = 0;

  constructor(private readonly queue: EventQueue) {
    this.baseSim = queue.now;
    this.baseLocal = queue.now;
  }

  now(): number {
    return this.baseLocal + (this.queue.now - this.baseSim) * this.rate;
  }

  /** Local ms per simulated ms from now on (1: exact). */
  setRate(rate: number): void {
    this.baseLocal = this.now();
    this.baseSim = this.queue.now;
    this.rate = rate;
  }

  /** Freezes the process for `ms` simulated ms: nothing it schedules runs before then. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.queue.now + ms);
  }

  get paused(): boolean {
    return this.queue.now < this.pausedUntil;
  }

  /** Ends this incarnation: pending timers and immediates never run. */
  kill(): void {
    this.generation++;
    this.pausedUntil = 0;
  }

  /** Runs `fn` after `delay` simulated ms, later if the process is paused then, never if it died. */
  run(delay: number, fn: () => void): void {
    const generation = this.generation;
    const fire = (): void => {
      if (generation !== this.generation) return;
      if (this.paused) this.queue.schedule(this.pausedUntil - this.queue.now, fire);
      else fn();
    };
    this.queue.schedule(delay, fire);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: SimTimer = { cancelled: false };
    this.run(this.toSim(ms), () => {
      if (!timer.cancelled) fn();
    });
    return timer;
  }

  clearTimeout(timer: TimerHandle): void {
    if (timer !== undefined) (timer as SimTimer).cancelled = true;
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const timer: SimTimer = { cancelled: false };
    const tick = (): void => {
      if (timer.cancelled) return;
      this.run(this.toSim(ms), tick);
      fn();
    };
    this.run(this.toSim(ms), tick);
    return timer;
  }

  clearInterval(timer: TimerHandle): void {
    this.clearTimeout(timer);
  }

  setImmediate(fn: () => void): void {
    this.run(0, fn);
  }

  private toSim(ms: number): number {
    return Math.max(0, ms / this.rate);
  }
}
