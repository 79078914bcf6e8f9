import { Type } from '@sinclair/typebox';

/** The shape of a pipeline file in its three forms; components' own configs are checked apart. */

const componentFields = {
  type: Type.String({ minLength: 1, description: 'A registered connector or transform type.' }),
  // `config:` left empty in YAML is null: read as an empty config, like a missing one.
  config: Type.Unsafe<Record<string, unknown> | null>({
    type: ['object', 'null'],
    default: {},
    description: "The component's config (see docs/connectors.md).",
  }),
};

const Component = Type.Object(componentFields, { additionalProperties: false });

const Duration = Type.Unsafe<number | string>({
  type: ['number', 'string'],
  description: 'Milliseconds, or a string such as "100ms", "2s", "1m".',
});

/** Fields every pipeline may set; in the original form they apply to each pipeline of the file. */
const settings = {
  dead_letter: Type.Optional(Component),
  parallelism: Type.Optional(Type.Integer({ minimum: 1, default: 1, description: 'Lanes; records with the same key stay in order.' })),
  workers: Type.Optional(
    Type.Union([Type.Integer({ minimum: 0 }), Type.Literal('auto')], {
      default: 'auto',
      description: 'Worker threads for transforms: a number (0 = the main thread), or auto (one per core where it pays).',
    }),
  ),
  rate_limit: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Records per second.' })),
  on_error: Type.Optional(
    Type.Union([Type.Literal('dead_letter'), Type.Literal('fail'), Type.Literal('drop')], {
      description: 'What happens to a record that fails: dead_letter (the default with a dead_letter sink), fail, or drop.',
    }),
  ),
  retry: Type.Optional(
    Type.Object(
      {
        max_attempts: Type.Optional(Type.Integer({ minimum: 1 })),
        initial: Type.Optional(Duration),
        max: Type.Optional(Duration),
      },
      { additionalProperties: false },
    ),
  ),
  batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1024 })),
  placement: Type.Optional(
    Type.Object(
      {
        node: Type.Optional(Type.String({ minLength: 1, description: 'Only this node runs its tasks.' })),
        labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Only nodes with all these labels (`--node-label`) run its tasks.' })),
      },
      { additionalProperties: false, description: 'In a cluster, which nodes may run the tasks (ignored by wire run).' },
    ),
  ),
  transform_timeout: Type.Optional(
    Type.Unsafe<number | string>({
      ...Duration,
      description: 'Longest a transform may take over one batch (default 30s); past it the records go to on_error with a TIMEOUT error.',
    }),
  ),
};

export const PipelineShape = Type.Object(
  {
    name: Type.String({ description: 'Unique name: a-z, 0-9, _ and -.' }),
    source: Component,
    transforms: Type.Optional(Type.Array(Component, { default: [] })),
    sink: Component,
    ...settings,
  },
  { additionalProperties: false },
);

export const ManyPipelinesShape = Type.Object(
  { pipelines: Type.Array(PipelineShape, { minItems: 1 }) },
  { additionalProperties: false },
);

const Endpoint = Type.Object(
  { key: Type.String({ minLength: 1, description: 'Joins a source to its sink; names the pipeline.' }), ...componentFields },
  { additionalProperties: false },
);

const KeyedTransform = Type.Object(
  { key: Type.Optional(Type.String({ minLength: 1, description: 'The pipeline it belongs to; every pipeline when absent.' })), ...componentFields },
  { additionalProperties: false },
);

/** The original Wire form: sources and sinks joined by a shared key. */
export const KeyedShape = Type.Object(
  {
    sources: Type.Array(Endpoint, { minItems: 1 }),
    sinks: Type.Array(Endpoint, { minItems: 1 }),
    transforms: Type.Optional(Type.Array(KeyedTransform, { default: [] })),
    ...settings,
  },
  { additionalProperties: false },
);
