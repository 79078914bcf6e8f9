import { Type } from '@sinclair/typebox';
import type { ComponentDefinition, ComponentKind, ComponentRegistry, Sink, Source } from '../../src/core/ports.js';
import { transformDefinitions } from '../../src/transforms/index.js';

// Connectors stand-ins: config tests need schemas to validate against, never a running source or sink.
function notRunnable(): never {
  throw new Error('test definitions are for validation only');
}

const fileSchema = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    format: Type.Optional(
      Type.Union([Type.Literal('jsonl'), Type.Literal('lines'), Type.Literal('csv')], { default: 'jsonl' }),
    ),
    follow: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const fileSource: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'file',
  description: 'test file source',
  schema: fileSchema,
  create: notRunnable,
};

export const generateSource: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'generate',
  description: 'test generator',
  schema: Type.Object(
    { count: Type.Optional(Type.Integer({ minimum: 0 })), rate: Type.Optional(Type.Number({ minimum: 0 })) },
    { additionalProperties: false },
  ),
  create: notRunnable,
};

export const fileSink: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'file',
  description: 'test file sink',
  schema: fileSchema,
  create: notRunnable,
};

export const stdoutSink: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'stdout',
  description: 'test stdout sink',
  schema: Type.Object({}, { additionalProperties: false }),
  create: notRunnable,
};

export function makeRegistry(definitions: readonly ComponentDefinition[]): ComponentRegistry {
  return {
    get: (kind: ComponentKind, type: string) => definitions.find((d) => d.kind === kind && d.type === type),
    list: (kind?: ComponentKind) => definitions.filter((d) => kind === undefined || d.kind === kind),
  };
}

export const registry = makeRegistry([fileSource, generateSource, fileSink, stdoutSink, ...transformDefinitions]);
