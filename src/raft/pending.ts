/**
 * Requests waiting on the Raft loop (proposals, reads, transfers), each with a timeout timer that is
 * cleared however the request ends, so a stopped node leaves no timer behind.
 */
import type { Clock, TimerHandle } from './clock.js';
import { TimeoutError } from './errors.js';

interface Waiter<T, X> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: TimerHandle;
  extra: X;
}

export class PendingMap<K, T, X = undefined> {
  private readonly items = new Map<K, Waiter<T, X>>();

  constructor(private readonly clock: Clock) {}

  /** Registers `key`; the promise rejects with TimeoutError after `timeoutMs` unless settled first. */
  add(key: K, extra: X, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.items.delete(key);
        reject(new TimeoutError(what, timeoutMs));
      }, timeoutMs);
      this.items.set(key, { resolve, reject, timer, extra });
    });
  }

  get size(): number {
    return this.items.size;
  }

  extra(key: K): X | undefined {
    return this.items.get(key)?.extra;
  }

  /** Keys and extras of every waiter (a copy: settling while iterating is safe). */
  list(): Array<[K, X]> {
    return [...this.items].map(([k, w]) => [k, w.extra]);
  }

  resolve(key: K, value: T): boolean {
    const w = this.take(key);
    w?.resolve(value);
    return w !== undefined;
  }

  reject(key: K, err: Error): boolean {
    const w = this.take(key);
    w?.reject(err);
    return w !== undefined;
  }

  rejectAll(err: Error): void {
    for (const key of [...this.items.keys()]) this.reject(key, err);
  }

  private take(key: K): Waiter<T, X> | undefined {
    const w = this.items.get(key);
    if (!w) return undefined;
    this.clock.clearTimeout(w.timer);
    this.items.delete(key);
    return w;
  }
}
