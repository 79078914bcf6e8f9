/**
 * An unbounded FIFO with one consumer. It needs no bound of its own: the runner admits a source batch only
 * while the in-flight window has room, and every item here belongs to an admitted batch.
 */
export class LaneQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private waiter: ((item: T | undefined) => void) | undefined;
  private closed = false;

  push(item: T): void {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter(item);
      return;
    }
    this.items.push(item);
  }

  /** The next item, or undefined once closed and empty. */
  take(): Promise<T | undefined> | T | undefined {
    if (this.head < this.items.length) {
      const item = this.items[this.head] as T;
      // Clear the slot: a queue that never quite empties must not keep every item it ever held.
      this.items[this.head] = undefined;
      this.head++;
      // Shifting is O(n) per take; instead drop the consumed prefix once it is most of the array.
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head >= 64 && this.head * 2 >= this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return item;
    }
    if (this.closed) return undefined;
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The next item if one is queued and `ready` accepts it; never waits. */
  takeIf(ready: (item: T) => boolean): T | undefined {
    if (this.head >= this.items.length || !ready(this.items[this.head] as T)) return undefined;
    return this.take() as T;
  }

  /** No more items will come; the consumer sees undefined after the last one. */
  close(): void {
    this.closed = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(undefined);
  }

  /** Drops everything queued and closes (kill, failure). */
  discard(): void {
    this.items = [];
    this.head = 0;
    this.close();
  }
}
