/** The counters every component (source, transforms.N, sink, dead_letter) reports, under the same names. */
export interface ComponentCounters {
  received(count: number): void;
  sent(count: number): void;
  errors(count: number): void;
  deadLettered(count: number): void;
  dropped(count: number): void;
}

export interface ComponentLabels {
  readonly pipeline: string;
  /** `source`, `transforms.0`, `sink`, `dead_letter`. */
  readonly component: string;
  /** The registered type: `file`, `filter`, ... */
  readonly type: string;
}

/** What the engine reports its metrics to: `WireMetrics` (prom-client) when a process exports them. */
export interface PipelineMetrics {
  /** The counters of one component. */
  component(labels: ComponentLabels): ComponentCounters;
  /** Records batch latencies (seconds) for one pipeline. */
  latencyOf(pipeline: string): (seconds: number) => void;
}

const uncounted: ComponentCounters = {
  received: () => {},
  sent: () => {},
  errors: () => {},
  deadLettered: () => {},
  dropped: () => {},
};

/**
 * For a run whose metrics nobody asked for (`wire run`): counts nothing, so prom-client (and the http, tls, zlib
 * and v8 modules it loads) is not loaded at all. See docs/performance.md, "Start-up".
 */
export const unexportedMetrics: PipelineMetrics = {
  component: () => uncounted,
  latencyOf: () => () => {},
};
