import { existsSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { ComponentDefinition, ConfigProblem, Transform } from '../core/ports.js';
import { createJs, modulePath, type JsConfig } from './run/js.js';

const schema = Type.Object(
  {
    module: Type.String({
      minLength: 1,
      description: "Path to a local ES module, relative to the pipeline file's directory.",
      // Tells the pipeline loader to resolve this path against the pipeline file's directory.
      'x-wire-pipeline-relative': true,
    }),
    function: Type.Optional(
      Type.String({ minLength: 1, description: 'The exported function to call; the default export when absent.' }),
    ),
  },
  { additionalProperties: false },
);

function check(config: JsConfig): ConfigProblem[] {
  const path = modulePath(config);
  return existsSync(path) ? [] : [{ path: 'module', message: `module not found: ${path}` }];
}

export const jsDefinition: ComponentDefinition<JsConfig, Transform> = {
  kind: 'transform',
  type: 'js',
  description:
    "Calls a function from a local ES module on each record's value: it returns a value, null (drop) or an array (split), or a promise of one. The function runs on a thread of its own, and values cross to it and back as JSON.",
  schema,
  example: { module: './enrich.mjs', function: 'enrich' },
  check,
  keepsKey: true,
  create: createJs,
};
