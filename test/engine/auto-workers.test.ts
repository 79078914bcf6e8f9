import { describe, expect, it } from 'vitest';
import { AUTO_MIN_GAIN, AutoWorkersTrial, keepFasterWorkers, type TrialPlan } from '../../src/engine/auto-workers.js';

const plan: TrialPlan = { warmup: 2, main: 4, workerWarmup: 3, workers: 5 };

/** Feeds blocks of `bytes` every `ms` until the trial answers; returns each step and when it came. */
function drive(trial: AutoWorkersTrial, mainMs: number, workerMs: number, workersReadyAfter: number) {
  const steps: [number, string][] = [];
  let now = 0;
  let started = -1;
  for (let block = 0; block < 100; block++) {
    const onWorkers = started >= 0 && block >= started + workersReadyAfter;
    now += onWorkers ? workerMs : mainMs;
    const step = trial.observe(now, 1000, onWorkers);
    if (step !== undefined) steps.push([block, step]);
    if (step === 'start') started = block;
  }
  return steps;
}

describe('AutoWorkersTrial', () => {
  it('starts the workers once the main thread is timed, after its warm-up', () => {
    const trial = new AutoWorkersTrial(plan);
    expect(drive(trial, 2, 1, 3)[0]).toEqual([plan.warmup + plan.main, 'start']);
    expect(trial.mainRate).toBeCloseTo(1000 / 2);
  });

  it('keeps workers that are faster, and times them only after their warm-up', () => {
    const trial = new AutoWorkersTrial(plan);
    expect(drive(trial, 2, 1, 3)).toEqual([[6, 'start']]);
    expect(trial.workerRate).toBeCloseTo(1000 / 1);
  });

  it('stops workers that are slower, or not faster by the margin', () => {
    expect(drive(new AutoWorkersTrial(plan), 2, 3, 3)).toContainEqual([expect.any(Number), 'stop']);
    const even = new AutoWorkersTrial(plan);
    const steps = drive(even, 2, 2 / (AUTO_MIN_GAIN - 0.01), 3);
    expect(steps.map(([, step]) => step)).toEqual(['start', 'stop']);
    // the stop comes after the workers' warm-up and timed blocks
    expect(steps[1]![0]).toBe(6 + 3 + plan.workerWarmup + plan.workers);
  });

  it('waits for the workers however long they take to start', () => {
    const steps = drive(new AutoWorkersTrial(plan), 2, 3, 40);
    expect(steps).toEqual([[6, 'start'], [6 + 40 + plan.workerWarmup + plan.workers, 'stop']]);
  });

  it('judges by the rates alone', () => {
    expect(keepFasterWorkers(100, 100 * AUTO_MIN_GAIN)).toBe(true);
    expect(keepFasterWorkers(100, 100)).toBe(false);
  });
});
