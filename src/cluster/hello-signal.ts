/**
 * Wakes `--bootstrap-expect` discovery when a node it has not heard from says hello. The last founder to start asks
 * every peer at once; with this the others see it straight away rather than at their next poll (up to 100 ms
 * later, before the lowest-id founder could campaign). Only a sender not heard before wakes it, so founders that
 * keep polling one another never wake each other in a loop; hellos that name no sender (older nodes) wake nothing.
 */

/** Distinct senders remembered; past this a hello wakes nothing, and discovery polls as before. */
const MAX_SENDERS = 1024;

export class HelloSignal {
  private readonly senders = new Set<string>();
  private readonly waiters = new Set<() => void>();

  /** `self`: this node's id (its own address is among the `--join` ones: its own hello wakes nothing). */
  constructor(private readonly self: string) {}

  /** How many new senders have said hello so far: what `wait` compares with. */
  get heard(): number {
    return this.senders.size;
  }

  /** A `hello` call from node `from`. */
  hello(from: unknown): void {
    if (typeof from !== 'string' || from === this.self || this.senders.has(from) || this.senders.size >= MAX_SENDERS) return;
    this.senders.add(from);
    for (const wake of this.waiters) wake();
  }

  /** Resolves after `ms`, or at once when more new senders than `since` have said hello (none missed in between). */
  wait(ms: number, since: number): Promise<void> {
    if (this.heard > since) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}
