import { WireError } from '../core/errors.js';
import type { ComponentDefinition, ComponentKind, ComponentRegistry } from '../core/ports.js';
import { transformDefinitions } from '../transforms/index.js';
import { dropSinkDefinition } from './sinks/drop.js';
import { elasticsearchSinkDefinition } from './elasticsearch/sink.js';
import { fileSinkDefinition } from './sinks/file.js';
import { mongoSinkDefinition } from './mongodb/sink.js';
import { mongoSourceDefinition } from './mongodb/source.js';
import { postgresCdcSourceDefinition } from './postgres/cdc-source.js';
import { kafkaSinkDefinition } from './kafka/sink.js';
import { kafkaSourceDefinition } from './kafka/source.js';
import { natsSinkDefinition } from './nats/sink.js';
import { natsSourceDefinition } from './nats/source.js';
import { postgresSinkDefinition } from './postgres/sink.js';
import { mqttSinkDefinition } from './mqtt/sink.js';
import { mqttSourceDefinition } from './mqtt/source.js';
import { rabbitmqSinkDefinition } from './rabbitmq/sink.js';
import { rabbitmqSourceDefinition } from './rabbitmq/source.js';
import { redisSinkDefinition } from './redis/sink.js';
import { s3SinkDefinition } from './s3/sink.js';
import { s3SourceDefinition } from './s3/source.js';
import { redisSourceDefinition } from './redis/source.js';
import { httpSinkDefinition } from './sinks/http.js';
import { stdoutSinkDefinition } from './sinks/stdout.js';
import { fileSourceDefinition } from './sources/file.js';
import { generateSourceDefinition } from './sources/generate.js';
import { httpSourceDefinition } from './sources/http.js';
import { stdinSourceDefinition } from './sources/stdin.js';

/** Every built-in source, in the order the docs list them. */
export const sourceDefinitions: readonly ComponentDefinition[] = [
  fileSourceDefinition,
  stdinSourceDefinition,
  generateSourceDefinition,
  httpSourceDefinition,
  redisSourceDefinition,
  mongoSourceDefinition,
  postgresCdcSourceDefinition,
  kafkaSourceDefinition,
  rabbitmqSourceDefinition,
  mqttSourceDefinition,
  natsSourceDefinition,
  s3SourceDefinition,
];

/** Every built-in sink. */
export const sinkDefinitions: readonly ComponentDefinition[] = [
  fileSinkDefinition,
  stdoutSinkDefinition,
  dropSinkDefinition,
  httpSinkDefinition,
  redisSinkDefinition,
  postgresSinkDefinition,
  elasticsearchSinkDefinition,
  mongoSinkDefinition,
  kafkaSinkDefinition,
  rabbitmqSinkDefinition,
  mqttSinkDefinition,
  natsSinkDefinition,
  s3SinkDefinition,
];

/** A registry over the given definitions; two with the same kind and type are a programming error. */
export function registryOf(definitions: readonly ComponentDefinition[]): ComponentRegistry {
  const byKey = new Map<string, ComponentDefinition>();
  for (const definition of definitions) {
    const key = `${definition.kind}:${definition.type}`;
    if (byKey.has(key)) throw new WireError('INTERNAL', `two ${definition.kind} definitions named ${definition.type}`);
    byKey.set(key, definition);
  }
  const all = [...byKey.values()];
  return {
    get: (kind: ComponentKind, type: string) => byKey.get(`${kind}:${type}`),
    list: (kind?: ComponentKind) => (kind === undefined ? all : all.filter((d) => d.kind === kind)),
  };
}

/** The registry of every built-in source, sink and transform, plus any extra definitions (plugins, tests). */
export function createRegistry(extra: readonly ComponentDefinition[] = []): ComponentRegistry {
  return registryOf([...sourceDefinitions, ...transformDefinitions, ...sinkDefinitions, ...extra]);
}
