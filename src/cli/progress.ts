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
  /** Records a filter left out: with these, in = out + dead-lettered + dropped + filtered (for 1:1 transforms). */
  readonly filtered: number;
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
  /** Stops periodic output and prints the final summary. */
  finish(final: readonly PipelineProgress[], peakRssMb: number): void;
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
  const workers = p.workers === undefined || p.workers === 0 ? '' : `, ${p.workers} worker thread${p.workers === 1 ? '' : 's'}`;
  return (
    `${p.pipeline}: ${p.state}: ${formatCount(p.recordsIn)} in, ${formatCount(p.recordsOut)} out, ` +
    `${formatCount(p.deadLettered)} dead-lettered${dropped}${filtered} in ${formatSeconds(p.elapsedMs)} ` +
    `(${rate} records/s${workers}, peak RSS ${peakRssMb} MB)` +
    (p.resumedFrom === undefined ? '' : `; resumed from its checkpoint: ${p.resumedFrom}`)
  );
}

/** One live line: counters, recent rate, elapsed, and a bar with ETA when the source knows its size. */
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

  finish(final: readonly PipelineProgress[], peakRssMb: number): void {
    clearInterval(this.timer);
    for (const p of final) this.write(JSON.stringify(progressJson('summary', p, peakRssMb)) + '\n');
  }
}

class TtyReporter implements Reporter {
  private timer: NodeJS.Timeout | undefined;
  private drawnLines = 0;
  private readonly previous = new Map<string, { recordsIn: number; elapsedMs: number; rate: number }>();

  constructor(
    private readonly write: (text: string) => void,
    private readonly columns: number,
  ) {}

  start(sample: () => readonly PipelineProgress[]): void {
    this.timer = setInterval(() => this.draw(sample()), TTY_INTERVAL_MS);
    this.timer.unref();
  }

  finish(final: readonly PipelineProgress[], peakRssMb: number): void {
    clearInterval(this.timer);
    let text = this.eraseDrawn();
    for (const p of final) text += summaryLine(p, peakRssMb) + '\n';
    this.write(text);
  }

  private draw(samples: readonly PipelineProgress[]): void {
    let text = this.eraseDrawn();
    for (const p of samples) text += '\x1b[2K' + this.fit(progressLine(p, this.recentRate(p))) + '\n';
    this.drawnLines = samples.length;
    this.write(text);
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

  private eraseDrawn(): string {
    const text = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A\r\x1b[0J` : '';
    this.drawnLines = 0;
    return text;
  }

  private fit(line: string): string {
    const width = Math.max(20, this.columns - 1);
    return line.length > width ? line.slice(0, width) : line;
  }
}
