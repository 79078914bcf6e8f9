import { Counter, Histogram, Registry } from 'prom-client';
import type { ComponentCounters, ComponentLabels, PipelineMetrics } from './pipeline-metrics.js';

export type { ComponentCounters, ComponentLabels } from './pipeline-metrics.js';

const LABELS = ['pipeline', 'component', 'type'] as const;
type Label = (typeof LABELS)[number];

/** Batch latencies go from a millisecond to a minute (a sink retrying with backoff). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Plain numbers bumped on the hot path; prom-client reads them only when the registry is rendered. */
class Tally implements ComponentCounters {
  receivedTotal = 0;
  sentTotal = 0;
  errorsTotal = 0;
  deadLetteredTotal = 0;
  droppedTotal = 0;

  constructor(readonly labels: ComponentLabels) {}

  received(count: number): void {
    this.receivedTotal += count;
  }
  sent(count: number): void {
    this.sentTotal += count;
  }
  errors(count: number): void {
    this.errorsTotal += count;
  }
  deadLettered(count: number): void {
    this.deadLetteredTotal += count;
  }
  dropped(count: number): void {
    this.droppedTotal += count;
  }
}

type TallyField = 'receivedTotal' | 'sentTotal' | 'errorsTotal' | 'deadLetteredTotal' | 'droppedTotal';

/**
 * Vector-style component metrics on a prom-client Registry of their own, for a process that exports them. Several
 * pipelines may share one instance (one process, one `/metrics`). Counting a batch is adding to a number: a prom-client label child
 * hashes its labels on every `inc`, which showed up at ~6 % of a pass-through profile, so the counters are
 * copied into prom-client at render time instead.
 */
export class WireMetrics implements PipelineMetrics {
  readonly registry: Registry;
  private readonly tallies = new Map<string, Tally>();
  private readonly latency: Histogram<'pipeline'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const tallies = this.tallies;
    const counter = (name: string, help: string, field: TallyField): void => {
      new Counter<Label>({
        name,
        help,
        labelNames: LABELS,
        registers: [registry],
        collect() {
          this.reset();
          for (const tally of tallies.values()) {
            const value = tally[field];
            if (value > 0) this.inc({ ...tally.labels }, value);
          }
        },
      });
    };
    counter('wire_component_received_records_total', 'Records a component was given.', 'receivedTotal');
    counter('wire_component_sent_records_total', 'Records a component passed on (for a sink or the dead-letter sink: confirmed by a flush).', 'sentTotal');
    counter('wire_component_errors_total', 'Errors a component hit (failed attempts, rejected records).', 'errorsTotal');
    counter('wire_component_dead_lettered_records_total', 'Records a component sent to the dead-letter sink.', 'deadLetteredTotal');
    counter('wire_component_dropped_records_total', 'Records dropped because on_error is drop.', 'droppedTotal');
    this.latency = new Histogram({
      name: 'wire_pipeline_latency_seconds',
      help: 'Time from reading a batch from the source to it being durable in the sink.',
      labelNames: ['pipeline'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /** The counters of one component; asking again for the same labels gives the same counters (a rerun adds up). */
  component(labels: ComponentLabels): ComponentCounters {
    const key = `${labels.pipeline}\u0000${labels.component}\u0000${labels.type}`;
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = new Tally({ pipeline: labels.pipeline, component: labels.component, type: labels.type });
      this.tallies.set(key, tally);
    }
    return tally;
  }

  /** Records batch latencies (seconds) for one pipeline. */
  latencyOf(pipeline: string): (seconds: number) => void {
    const child = this.latency.labels(pipeline);
    return (seconds) => child.observe(seconds);
  }

  /** Prometheus text exposition of everything in the registry. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
