/** A run's readable trace: notable events with their simulated time, bounded to the most recent ones. */
export class Trace {
  private lines: string[] = [];
  private dropped = 0;

  constructor(
    private readonly now: () => number,
    private readonly limit = 4000,
    /** Also print each line as it happens (the CLI's --trace). */
    private readonly echo: ((line: string) => void) | null = null,
  ) {}

  add(line: string): void {
    // Drifting clocks put events between whole milliseconds: a tenth is precision enough to read.
    const text = `${String(Math.round(this.now() * 10) / 10).padStart(6)}ms  ${line}`;
    if (this.echo !== null) this.echo(text);
    this.lines.push(text);
    if (this.lines.length > this.limit * 2) {
      this.dropped += this.lines.length - this.limit;
      this.lines = this.lines.slice(-this.limit);
    }
  }

  /** The kept lines, oldest first. */
  text(): string[] {
    const kept = this.lines.slice(-this.limit);
    const skipped = this.dropped + (this.lines.length - kept.length);
    return skipped > 0 ? [`(${skipped} earlier lines omitted)`, ...kept] : kept;
  }
}
