import type { SourceProgress } from '../core/ports.js';
import type { WireError } from '../core/errors.js';
import { errorJson } from './exit.js';
import {
  estimateRemainingMs,
  formatClock,
  formatCount,
  formatRate,
  formatSeconds,
  ratePerSecond,
  renderBar,
} from './format.js';

export type RunState = 'running' | 'completed' | 'stopped' | 'failed';

/** What `wire run` shows about one pipeline, sampled from the engine. */
export interface PipelineProgress {
  readonly pipeline: string;
  readonly state: RunState;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly deadLettered: number;
  readonly dropped: number;
  /** Records a filter left out. */
  readonly filtered: number;
  /**
   * Records read and not yet confirmed anywhere (in flight; after a failure, what the run could not confirm): with
   * these, in = out + dead-lettered + dropped + filtered + unconfirmed (for transforms that do not split records).
   */
  readonly unconfirmed: number;
  readonly elapsedMs: number;
  /** Worker threads the transforms ran on, once the run has ended (0: the main thread). */
  readonly workers?: number;
  readonly source?: SourceProgress;
  readonly error?: WireError;
  /** Where the run resumed, in words, when it found a checkpoint: a resume is never silent. */
  readonly resumedFrom?: string;
}

export type ReportMode = 'tty' | 'plain' | 'json';

export interface Reporter {
  /** Starts periodic output; `sample` is called on every tick. */
  start(sample: () => readonly PipelineProgress[]): void;
  /** Writes other text (logs, notices, errors) to the same stream, keeping it clear of the live line. */
  print(text: string): void;
  /** Stops periodic output and prints the final summary. */
  finish(final: readonly PipelineProgress[], peakRssMb: number): void;
}

export interface ReportModeInputs {
  readonly json: boolean;
  readonly stderrIsTty: boolean;
  readonly stdoutIsTty: boolean;
  /** Some pipeline's sink or dead-letter sink is `stdout`. */
  readonly writesStdout: boolean;
  readonly stdinIsTty: boolean;
  /** Some pipeline's source is `stdin`. */
  readonly readsStdin: boolean;
}

/**
 * A live line only on a terminal that nothing else of the run writes to: records a stdout sink puts on the
 * same terminal, or what a person types for a stdin source (echoed), would share its line, and a redraw would
 * cut into them.
 */
export function reportMode(inputs: ReportModeInputs): ReportMode {
  if (inputs.json) return 'json';
  if (!inputs.stderrIsTty) return 'plain';
  const shared = (inputs.stdoutIsTty && inputs.writesStdout) || (inputs.stdinIsTty && inputs.readsStdin);
  return shared ? 'plain' : 'tty';
}

export interface ReporterOptions {
  readonly mode: ReportMode;
  readonly write: (text: string) => void;
  /** Terminal width, to keep redrawn lines from wrapping (a wrapped line breaks the redraw). */
  readonly columns?: number;
}

/** ~5 redraws a second looks live without costing the engine anything measurable. */
export const TTY_INTERVAL_MS = 200;
export const JSON_INTERVAL_MS = 1000;
const BAR_WIDTH = 16;

export function createReporter(options: ReporterOptions): Reporter {
  switch (options.mode) {
    case 'tty':
      // 0 columns means the terminal did not say (e.g. under `script`): assume the classic 80.
      return new TtyReporter(options.write, options.columns !== undefined && options.columns > 0 ? options.columns : 80);
    case 'json':
      return new JsonReporter(options.write);
    case 'plain':
      return new PlainReporter(options.write);
  }
}

/** The final line for one pipeline, as text. */
export function summaryLine(p: PipelineProgress, peakRssMb: number): string {
  const rate = formatCount(Math.round(ratePerSecond(p.recordsIn, p.elapsedMs)));
  const dropped = p.dropped > 0 ? `, ${formatCount(p.dropped)} dropped` : '';
  const filtered = p.filtered > 0 ? `, ${formatCount(p.filtered)} filtered` : '';
  const unconfirmed = p.unconfirmed > 0 ? `, ${formatCount(p.unconfirmed)} unconfirmed` : '';
  const workers = p.workers === undefined || p.workers === 0 ? '' : `, ${p.workers} worker thread${p.workers === 1 ? '' : 's'}`;
  return (
    `${p.pipeline}: ${p.state}: ${formatCount(p.recordsIn)} in, ${formatCount(p.recordsOut)} out, ` +
    `${formatCount(p.deadLettered)} dead-lettered${dropped}${filtered}${unconfirmed} in ${formatSeconds(p.elapsedMs)} ` +
    `(${rate} records/s${workers}, peak RSS ${peakRssMb} MB)` +
    (p.resumedFrom === undefined ? '' : `; resumed from its checkpoint: ${p.resumedFrom}`)
  );
}

/** One pipeline's live line: counters, recent rate, elapsed, and a bar with ETA when the source knows its size. */
export function progressLine(p: PipelineProgress, recentRate: number): string {
  let line =
    `${p.pipeline} in ${formatCount(p.recordsIn)} out ${formatCount(p.recordsOut)} ` +
    `dlq ${formatCount(p.deadLettered)} ${formatRate(recentRate)} ${formatClock(p.elapsedMs)}`;
  const fraction = sourceFraction(p.source);
  if (fraction !== undefined) {
    const eta = estimateRemainingMs(p.elapsedMs, fraction);
    line += ` ${renderBar(fraction, BAR_WIDTH)} ${(fraction * 100).toFixed(0).padStart(3)}%`;
    line += eta === undefined ? ' ETA --' : ` ETA ${formatClock(eta)}`;
  }
  return line;
}

/** One pipeline's share of the live line when several run: name, records in, recent rate, percent if known. */
export function compactProgress(p: PipelineProgress, recentRate: number): string {
  const fraction = sourceFraction(p.source);
  const percent = fraction === undefined ? '' : ` ${(fraction * 100).toFixed(0)}%`;
  return `${p.pipeline} ${formatCount(p.recordsIn)} in ${formatRate(recentRate)}${percent}`;
}

/** The JSON-lines form of a progress sample or summary. */
export function progressJson(
  type: 'progress' | 'summary',
  p: PipelineProgress,
  peakRssMb?: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type,
    pipeline: p.pipeline,
    state: p.state,
    records_in: p.recordsIn,
    records_out: p.recordsOut,
    dead_lettered: p.deadLettered,
    dropped: p.dropped,
    filtered: p.filtered,
    unconfirmed: p.unconfirmed,
    elapsed_s: Number((p.elapsedMs / 1000).toFixed(3)),
    records_per_s: Math.round(ratePerSecond(p.recordsIn, p.elapsedMs)),
  };
  if (p.workers !== undefined) out.workers = p.workers;
  if (p.source !== undefined) out.progress = { ...p.source };
  if (p.error !== undefined) out.error = errorJson(p.error);
  if (p.resumedFrom !== undefined) out.resumed_from = p.resumedFrom;
  if (peakRssMb !== undefined) out.peak_rss_mb = peakRssMb;
  return out;
}

function sourceFraction(source: SourceProgress | undefined): number | undefined {
  if (source === undefined || !(source.total > 0)) return undefined;
  return Math.min(1, source.done / source.total);
}

class PlainReporter implements Reporter {
  constructor(private readonly write: (text: string) => void) {}

  start(): void {
    // Not a terminal: a log file or a pipe wants the summary only, not redraw sequences.
  }

  print(text: string): void {
    this.write(text);
  }

  finish(final: readonly PipelineProgress[], peakRssMb: number): void {
    for (const p of final) this.write(summaryLine(p, peakRssMb) + '\n');
  }
}

class JsonReporter implements Reporter {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly write: (text: string) => void) {}

  start(sample: () => readonly PipelineProgress[]): void {
    this.timer = setInterval(() => {
      for (const p of sample()) this.write(JSON.stringify(progressJson('progress', p)) + '\n');
    }, JSON_INTERVAL_MS);
    // The run's own work keeps the process alive; the reporter must never be the reason it stays.
    this.timer.unref();
  }

  print(text: string): void {
    this.write(text);
  }

  finish(final: readonly PipelineProgress[], peakRssMb: number): void {
    clearInterval(this.timer);
    for (const p of final) this.write(JSON.stringify(progressJson('summary', p, peakRssMb)) + '\n');
  }
}

/** Back to the start of the line and clear it: the only cursor movement the live line ever makes. */
export const CLEAR_LINE = '\r\x1b[2K';

/**
 * The live line sits on the terminal's current line, without a newline, and a redraw rewrites that line only. It
 * never moves the cursor up, so it cannot erase anything another writer printed: at worst a line printed behind its
 * back starts after the stale live text. Wire's own output goes through `print`, which clears the line first.
 */
class TtyReporter implements Reporter {
  private timer: NodeJS.Timeout | undefined;
  /** What the live line shows now; empty when nothing is drawn. */
  private live = '';
  private readonly previous = new Map<string, { recordsIn: number; elapsedMs: number; rate: number }>();

  constructor(
    private readonly write: (text: string) => void,
    private readonly columns: number,
  ) {}

  start(sample: () => readonly PipelineProgress[]): void {
    this.timer = setInterval(() => this.draw(sample()), TTY_INTERVAL_MS);
    this.timer.unref();
  }

  print(text: string): void {
    this.write(this.live === '' ? text : CLEAR_LINE + text + this.live);
  }

  finish(final: readonly PipelineProgress[], peakRssMb: number): void {
    clearInterval(this.timer);
    let text = this.live === '' ? '' : CLEAR_LINE;
    this.live = '';
    for (const p of final) text += summaryLine(p, peakRssMb) + '\n';
    this.write(text);
  }

  private draw(samples: readonly PipelineProgress[]): void {
    const line =
      samples.length === 1
        ? progressLine(samples[0]!, this.recentRate(samples[0]!))
        : samples.map((p) => compactProgress(p, this.recentRate(p))).join('  ');
    this.live = this.fit(line);
    this.write(CLEAR_LINE + this.live);
  }

  /** Smoothed rate over the last ticks, so a stall shows at once but one slow tick does not jitter. */
  private recentRate(p: PipelineProgress): number {
    const before = this.previous.get(p.pipeline);
    const instant =
      before === undefined
        ? ratePerSecond(p.recordsIn, p.elapsedMs)
        : ratePerSecond(p.recordsIn - before.recordsIn, p.elapsedMs - before.elapsedMs);
    const rate = before === undefined ? instant : 0.7 * before.rate + 0.3 * instant;
    this.previous.set(p.pipeline, { recordsIn: p.recordsIn, elapsedMs: p.elapsedMs, rate });
    return rate;
  }

  /** One column short of the width: a line that fills the last column leaves the cursor pending a wrap. */
  private fit(line: string): string {
    const width = Math.max(20, this.columns - 1);
    return line.length > width ? line.slice(0, width) : line;
  }
}
