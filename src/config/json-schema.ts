import { PIPELINE_NAME } from '../core/pipeline.js';
import type { ComponentDefinition, ComponentKind, ComponentRegistry, JsonSchema } from '../core/ports.js';
import { KeyedShape, ManyPipelinesShape, PipelineShape } from './file-schema.js';

type Schema = Record<string, unknown>;

/** A TypeBox schema as plain JSON (its symbol-keyed annotations dropped), safe to change. */
function plain(schema: JsonSchema): Schema {
  return JSON.parse(JSON.stringify(schema)) as Schema;
}

function properties(schema: Schema): Schema {
  return schema['properties'] as Schema;
}

/**
 * One kind of component (`{ type, config }`) for editors: `type` one of the registered types, and `config` checked
 * against the schema of the type named. An empty `config:` (null) is read as `{}`, so it fits a type none of whose
 * fields is required.
 */
function componentSchema(kind: ComponentKind, definitions: readonly ComponentDefinition[], key?: { schema: unknown; required: boolean }): Schema {
  const extra = key === undefined ? {} : { key: key.schema };
  return {
    type: 'object',
    // A missing config is an empty one (its schema default).
    required: key?.required === true ? ['key', 'type'] : ['type'],
    additionalProperties: false,
    properties: {
      ...extra,
      type: { enum: definitions.map((d) => d.type), description: `A registered ${kind} type (see docs/connectors.md).` },
      config: { type: ['object', 'null'], description: "The component's config (see docs/connectors.md)." },
    },
    allOf: definitions.map((d) => {
      const config = plain(d.schema);
      optionalDefaults(config);
      const required = config['required'];
      const nullable = !Array.isArray(required) || required.length === 0;
      return {
        if: { properties: { type: { const: d.type } }, required: ['type'] },
        // A type with a required field needs its config: a left-out one is an empty one, which lacks the field.
        then: nullable ? { properties: { config: { anyOf: [{ type: 'null' }, config] } } } : { required: ['config'], properties: { config } },
      };
    }),
  };
}

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The validator fills in defaults before it checks `required` (Ajv's useDefaults), so a field with a default may be
 * left out; an editor, which fills nothing in, must be told so. Changes `schema` in place, at every depth.
 */
function optionalDefaults(schema: unknown): void {
  if (Array.isArray(schema)) {
    for (const item of schema) optionalDefaults(item);
    return;
  }
  if (!isSchema(schema)) return;
  const props = schema['properties'];
  const required = schema['required'];
  if (isSchema(props) && Array.isArray(required)) {
    schema['required'] = required.filter((name) => !(isSchema(props[name as string]) && 'default' in (props[name as string] as Schema)));
  }
  for (const value of Object.values(schema)) optionalDefaults(value);
}

/** What `wire validate` takes as a pipeline name (and as a key of the original form, which names a pipeline). */
function withNamePattern(schema: Schema): Schema {
  schema['pattern'] = PIPELINE_NAME.source;
  return schema;
}

/** Replaces the `{ type, config }` fields of a pipeline's shape by references to the components' schemas. */
function pipelineSchema(): Schema {
  const pipeline = plain(PipelineShape);
  const p = properties(pipeline);
  withNamePattern(p['name'] as Schema);
  p['source'] = ref('source');
  p['sink'] = ref('sink');
  p['dead_letter'] = ref('sink');
  (p['transforms'] as Schema)['items'] = ref('transform');
  return pipeline;
}

/**
 * The JSON Schema of pipeline files in their three forms (one pipeline, `pipelines: [...]`, `sources:`/`sinks:`),
 * made from the same schemas `wire validate` checks against: the file's shape and every registered component's.
 * For editors (the YAML language server); `wire validate` still checks what a schema cannot (expressions).
 */
export function pipelineFileJsonSchema(registry: ComponentRegistry): Schema {
  const keyed = plain(KeyedShape);
  const k = properties(keyed);
  // The `key` each entry of the original form carries, as the file's shape describes it.
  const keyOf = (field: string, required: boolean) => ({
    schema: withNamePattern(properties((k[field] as Schema)['items'] as Schema)['key'] as Schema),
    required,
  });
  const endpointKey = keyOf('sources', true);
  const transformKey = keyOf('transforms', false);
  (k['sources'] as Schema)['items'] = componentSchema('source', registry.list('source'), endpointKey);
  (k['sinks'] as Schema)['items'] = componentSchema('sink', registry.list('sink'), endpointKey);
  (k['transforms'] as Schema)['items'] = componentSchema('transform', registry.list('transform'), transformKey);
  k['dead_letter'] = ref('sink');
  keyed['required'] = ['sources', 'sinks'];

  const many = plain(ManyPipelinesShape);
  (properties(many)['pipelines'] as Schema)['items'] = ref('pipeline');

  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Wire pipeline file',
    description: 'One pipeline, several under pipelines:, or the original Wire sources:/sinks: form (docs/configuration.md).',
    anyOf: [ref('pipeline'), many, keyed],
    definitions: {
      pipeline: pipelineSchema(),
      source: componentSchema('source', registry.list('source')),
      transform: componentSchema('transform', registry.list('transform')),
      sink: componentSchema('sink', registry.list('sink')),
    },
  };
  optionalDefaults(schema);
  return schema;
}
