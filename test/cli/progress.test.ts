import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WireError } from '../../src/core/errors.js';
import {
  CLEAR_LINE,
  createReporter,
  JSON_INTERVAL_MS,
  progressJson,
  progressLine,
  reportMode,
  summaryLine,
  TTY_INTERVAL_MS,
  type PipelineProgress,
} from '../../src/cli/progress.js';

const running: PipelineProgress = {
  pipeline: 'orders',
  state: 'running',
  recordsIn: 1500,
  recordsOut: 1200,
  deadLettered: 3,
  dropped: 0,
  filtered: 0,
  unconfirmed: 297,
  elapsedMs: 2000,
  source: { done: 250, total: 1000, unit: 'bytes' },
};

describe('progress lines', () => {
  it('shows counters, rate, elapsed and a bar with ETA when the source knows its size', () => {
    const line = progressLine(running, 750);
    expect(line).toContain('in 1,500');
    expect(line).toContain('out 1,200');
    expect(line).toContain('dlq 3');
    expect(line).toContain('750/s');
    expect(line).toContain('0:02');
    expect(line).toContain('[####............]  25%');
    expect(line).toContain('ETA 0:06');
  });

  it('leaves the bar out when the source does not know its size', () => {
    const { source: _source, ...unbounded } = running;
    expect(progressLine(unbounded, 10)).not.toContain('ETA');
  });

  it('summarises a pipeline in one line with its average rate and peak RSS', () => {
    expect(summaryLine({ ...running, state: 'completed', unconfirmed: 0 }, 42)).toBe(
      'orders: completed: 1,500 in, 1,200 out, 3 dead-lettered in 2.000 s (750 records/s, peak RSS 42 MB)',
    );
  });

  it('says how many worker threads ran the transforms, when there were any', () => {
    expect(summaryLine({ ...running, state: 'completed', workers: 2 }, 42)).toContain('(750 records/s, 2 worker threads, peak RSS 42 MB)');
    expect(summaryLine({ ...running, state: 'completed', workers: 1 }, 42)).toContain('(750 records/s, 1 worker thread, peak RSS');
    expect(summaryLine({ ...running, state: 'completed', workers: 0 }, 42)).toContain('(750 records/s, peak RSS');
    expect(progressJson('summary', { ...running, state: 'completed', workers: 2 }, 1)).toMatchObject({ workers: 2 });
  });

  it('mentions drops, filtered and unconfirmed records only when there were some', () => {
    expect(summaryLine({ ...running, dropped: 7, filtered: 1200, unconfirmed: 0 }, 1)).toContain('3 dead-lettered, 7 dropped, 1,200 filtered in');
    expect(summaryLine({ ...running, state: 'failed' }, 1)).toContain('1,200 out, 3 dead-lettered, 297 unconfirmed in');
  });

  it('gives JSON with snake_case counters, the error and the peak RSS in summaries', () => {
    const error = new WireError('UNAVAILABLE', 'sink down');
    const json = progressJson('summary', { ...running, state: 'failed', error }, 99);
    expect(json).toMatchObject({
      type: 'summary',
      pipeline: 'orders',
      state: 'failed',
      records_in: 1500,
      records_out: 1200,
      dead_lettered: 3,
      elapsed_s: 2,
      records_per_s: 750,
      filtered: 0,
      unconfirmed: 297,
      peak_rss_mb: 99,
      progress: { done: 250, total: 1000, unit: 'bytes' },
      error: { code: 'UNAVAILABLE', message: 'sink down' },
    });
  });
});

describe('reporters', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('plain mode prints only the final summary', () => {
    const out: string[] = [];
    const reporter = createReporter({ mode: 'plain', write: (t) => out.push(t) });
    reporter.start(() => [running]);
    vi.advanceTimersByTime(5000);
    expect(out).toEqual([]);
    reporter.finish([{ ...running, state: 'completed' }], 10);
    expect(out.join('')).toMatch(/^orders: completed: .*\n$/);
  });

  it('json mode prints a progress line every second, then a summary, each parseable', () => {
    const out: string[] = [];
    const reporter = createReporter({ mode: 'json', write: (t) => out.push(t) });
    reporter.start(() => [running]);
    vi.advanceTimersByTime(JSON_INTERVAL_MS * 3);
    reporter.finish([{ ...running, state: 'completed' }], 10);
    vi.advanceTimersByTime(JSON_INTERVAL_MS * 3);
    const lines = out.join('').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((l) => l.type)).toEqual(['progress', 'progress', 'progress', 'summary']);
  });

  it('tty mode rewrites its one line in place about five times a second, never moving the cursor up', () => {
    const out: string[] = [];
    const reporter = createReporter({ mode: 'tty', write: (t) => out.push(t), columns: 200 });
    let recordsIn = 0;
    reporter.start(() => {
      recordsIn += 100;
      return [{ ...running, recordsIn }, { ...running, pipeline: 'second' }];
    });
    vi.advanceTimersByTime(1000);
    expect(out.length).toBe(1000 / TTY_INTERVAL_MS);
    for (const draw of out) {
      // Back to the start of the current line, clear it, one line of text, no newline.
      expect(draw.startsWith(CLEAR_LINE)).toBe(true);
      const text = draw.slice(CLEAR_LINE.length);
      expect(text.includes('\r') || text.includes('\n') || text.includes('\x1b')).toBe(false);
    }
    expect(out[0]).toMatch(/orders 100 in .* second 1,500 in /);
    reporter.finish([{ ...running, state: 'completed' }], 10);
    expect(out.at(-1)!.startsWith(`${CLEAR_LINE}orders: completed: `)).toBe(true);
    expect(out.at(-1)!.endsWith('\n')).toBe(true);
  });

  it('tty mode clears its line before other text and draws it again after', () => {
    const out: string[] = [];
    const reporter = createReporter({ mode: 'tty', write: (t) => out.push(t), columns: 200 });
    reporter.print('before any draw\n');
    reporter.start(() => [running]);
    vi.advanceTimersByTime(TTY_INTERVAL_MS);
    const live = out[1]!.slice(CLEAR_LINE.length);
    reporter.print('wire: orders: a warning\n');
    expect(out).toEqual(['before any draw\n', CLEAR_LINE + live, `${CLEAR_LINE}wire: orders: a warning\n${live}`]);
  });

  it('chooses a live line only for a terminal that no stdout sink writes to and no stdin source reads from', () => {
    const base = { json: false, stderrIsTty: true, stdoutIsTty: true, writesStdout: false, stdinIsTty: true, readsStdin: false };
    expect(reportMode(base)).toBe('tty');
    expect(reportMode({ ...base, readsStdin: true })).toBe('plain');
    expect(reportMode({ ...base, readsStdin: true, stdinIsTty: false })).toBe('tty');
    expect(reportMode({ ...base, writesStdout: true })).toBe('plain');
    expect(reportMode({ ...base, writesStdout: true, stdoutIsTty: false })).toBe('tty');
    expect(reportMode({ ...base, stderrIsTty: false })).toBe('plain');
    expect(reportMode({ ...base, json: true })).toBe('json');
  });

  it('tty mode assumes 80 columns when the terminal reports none', () => {
    const out: string[] = [];
    const reporter = createReporter({ mode: 'tty', write: (t) => out.push(t), columns: 0 });
    reporter.start(() => [{ ...running, pipeline: 'p'.repeat(200) }]);
    vi.advanceTimersByTime(TTY_INTERVAL_MS);
    reporter.finish([], 1);
    expect(out[0]!.slice(CLEAR_LINE.length).length).toBe(79);
  });

  it('tty mode cuts lines to the terminal width so redraws never wrap', () => {
    const out: string[] = [];
    const reporter = createReporter({ mode: 'tty', write: (t) => out.push(t), columns: 30 });
    reporter.start(() => [running]);
    vi.advanceTimersByTime(TTY_INTERVAL_MS);
    reporter.finish([], 1);
    const drawn = out[0]!.slice(CLEAR_LINE.length);
    expect(drawn.length).toBe(29);
  });
});
