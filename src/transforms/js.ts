import { existsSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { ComponentDefinition, ConfigProblem, Transform } from '../core/ports.js';
import { suggestion } from '../core/suggest.js';
import { createJs, modulePath, type JsConfig } from './run/js.js';
import { probeModule } from './run/js-thread.js';

const schema = Type.Object(
  {
    module: Type.String({
      minLength: 1,
      description: "Path to a local ES module, relative to the pipeline file's directory.",
      // Tells the pipeline loader to resolve this path against the pipeline file's directory.
      'x-wire-pipeline-relative': true,
      // Through the API, only from the node's --allow-js directories (security/confine.ts).
      'x-wire-confine': 'module',
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

/** Loads the module on a thread of its own and checks that what the transform calls is one of its functions. */
async function probe(config: JsConfig): Promise<ConfigProblem[]> {
  const path = modulePath(config);
  // A missing module was told by check().
  if (!existsSync(path)) return [];
  const found = await probeModule(path);
  if ('error' in found) return [{ path: 'module', message: found.error.replace(/^js: /, '') }];
  const name = config.function ?? 'default';
  if (found.functions.includes(name)) return [];
  const named = found.functions.filter((f) => f !== 'default');
  if (config.function === undefined) {
    const hint = named.length === 0 ? 'it exports no function' : `set function to one of its exports: ${named.join(', ')}`;
    return [{ path: 'module', message: `${path} has no default export that is a function (${hint})` }];
  }
  const hint = named.length === 0 ? ' (it exports no function)' : suggestion(name, named);
  return [{ path: 'function', message: `${path} has no exported function '${name}'${hint}` }];
}

export const jsDefinition: ComponentDefinition<JsConfig, Transform> = {
  kind: 'transform',
  type: 'js',
  description:
    "Calls a function from a local ES module on each record's value: it returns a value, null (drop) or an array (split), or a promise of one. The function runs on a thread of its own, and values cross to it and back as JSON.",
  schema,
  example: { module: './enrich.mjs', function: 'enrich' },
  check,
  probe,
  keepsKey: true,
  create: createJs,
};
