/** Runs async sections one at a time, in call order: every sink write and checkpoint goes through one. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  get busy(): boolean {
    return this.pending > 0;
  }

  /** Resolves once every section started so far has settled (never rejects). */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }

  run<T>(section: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(section);
    // The chain must go on after a failed section; the caller sees the failure through `result`.
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }
}
