import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { shapeOf } from '../../src/config/forms.js';
import { AJV_OPTIONS, type PrecompiledValidator } from '../../src/config/schema-validator.js';
import { createRegistry } from '../../src/connectors/registry.js';
import type { JsonSchema } from '../../src/core/ports.js';

// The build (`npm run build`, run before the tests) compiles every built-in schema ahead of time so the
// CLI starts without Ajv; a schema it missed would silently cost start-up time, one that differs would
// validate differently from `wire validate` under the tests.
// The bundle looks each schema up by its JSON text in `index.cjs`, as here.
const index = createRequire(import.meta.url)(fileURLToPath(new URL('../../dist/config/validators/index.cjs', import.meta.url))) as Map<
  string,
  () => PrecompiledValidator
>;

const schemas: [string, JsonSchema][] = [
  ...(['single', 'many', 'keyed'] as const).map((form): [string, JsonSchema] => [`file shape ${form}`, shapeOf(form)]),
  ...createRegistry()
    .list()
    .map((d): [string, JsonSchema] => [`${d.kind} ${d.type}`, d.schema]),
];

function errorsOf(validate: PrecompiledValidator, data: unknown): Partial<ErrorObject>[] {
  validate(data);
  return (validate.errors ?? []).map(({ instancePath, keyword, params, message }) => ({ instancePath, keyword, params, message }));
}

describe('validators compiled at build time', () => {
  it.each(schemas)('exist for the %s schema', (_name, schema) => {
    expect(index.has(JSON.stringify(schema))).toBe(true);
  });

  it.each(schemas)('report what Ajv compiled at run time reports, for the %s schema', (_name, schema) => {
    const precompiled = index.get(JSON.stringify(schema))!();
    const runtime = new Ajv(AJV_OPTIONS).compile(schema);
    for (const sample of [{}, { bogus: 1 }, { path: 3, format: 'nope', count: -1 }, null, 'text']) {
      const a = structuredClone(sample);
      const b = structuredClone(sample);
      expect(errorsOf(precompiled, a)).toEqual(errorsOf(runtime, b));
      expect(a).toEqual(b); // the same defaults filled in
    }
  });
});
