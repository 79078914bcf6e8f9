import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpolate } from '../../src/config/interpolate.js';
import { parsePipelineText } from '../../src/config/index.js';
import { registry } from './fake-registry.js';

describe('interpolate', () => {
  const env = { HOST: 'db', PORT: '5432', EMPTY: '' };

  it.each([
    ['${HOST}:${PORT}', 'db:5432'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${HOST:-fallback}', 'db'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY}', ''],
    ['${MISSING:-}', ''],
    ['${MISSING:-a:b-c}', 'a:b-c'],
    ['$${HOST}', '${HOST}'],
    ['cost: $5 and $HOST', 'cost: $5 and $HOST'],
    ['$$${HOST}', '$${HOST}'],
    ['no references', 'no references'],
  ])('%s → %s', (text, expected) => {
    expect(interpolate(text, env)).toEqual({ text: expected, problems: [], secrets: [] });
  });

  it('reports a missing variable at its ${', () => {
    expect(interpolate('a ${HOST} ${NOPE} ${ALSO_NOPE}', env).problems).toEqual([
      { index: 10, message: "environment variable 'NOPE' is not set" },
      { index: 18, message: "environment variable 'ALSO_NOPE' is not set" },
    ]);
  });

  it('reads ${env:NAME} as a secret (no default), and keeps secret references as written when asked', () => {
    expect(interpolate('Bearer ${env:HOST}', env)).toMatchObject({ text: 'Bearer db', secrets: ['db'] });
    expect(interpolate('${env:NOPE}', env).problems).toEqual([{ index: 0, message: "environment variable 'NOPE' is not set" }]);
    const kept = interpolate('a ${env:NOPE} ${file:/x} $${HOST} ${HOST}', env, undefined, { keepSecretReferences: true });
    expect(kept).toEqual({ text: 'a ${env:NOPE} ${file:/x} $${HOST} db', problems: [], secrets: [] });
  });

  it('reports malformed references', () => {
    expect(interpolate('${1X}', env).problems).toEqual([
      { index: 0, message: "'${1X}' is not a variable reference (want ${NAME}, ${NAME:-default}, ${env:NAME} or ${file:PATH})" },
    ]);
    expect(interpolate('ab ${HOST', env).problems).toEqual([
      { index: 3, message: "'${' is not closed by '}' (write '$${' for a literal '${')" },
    ]);
  });

  it('text without ${ is left as it is (property)', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !s.includes('${')), (s) => interpolate(s, env).text === s),
      { seed: 11, numRuns: 300 },
    );
  });

  it('a variable is replaced by its value whatever the value holds (property)', () => {
    fc.assert(
      fc.property(fc.string(), (value) => interpolate('<${V}>', { V: value }).text === `<${value}>`),
      { seed: 12, numRuns: 300 },
    );
  });
});

describe('interpolation in pipeline files', () => {
  const parse = (text: string, env: Record<string, string>) => parsePipelineText(text, 'p.yaml', { env, registry });

  it('an unquoted value becomes what its text means: a number here', () => {
    const result = parse('name: a\nsource: { type: generate, config: { count: 1 } }\nsink: { type: stdout }\nparallelism: ${LANES}\n', { LANES: '8' });
    expect(result.pipelines?.[0]?.parallelism).toBe(8);
  });

  it('a quoted value stays a string', () => {
    const result = parse('name: "${NAME}"\nsource: { type: file, config: { path: "${DIR:-/tmp}/x" } }\nsink: { type: stdout }\n', { NAME: 'n1' });
    expect(result.pipelines?.[0]).toMatchObject({ name: 'n1', source: { config: { path: '/tmp/x' } } });
  });

  it('interpolates inside expressions too', () => {
    const result = parse('name: a\nsource: { type: generate }\ntransforms:\n  - type: filter\n    config:\n      expr: amount > ${MIN}\nsink: { type: stdout }\n', { MIN: '10' });
    expect(result.pipelines?.[0]?.transforms[0]).toEqual({ type: 'filter', config: { expr: 'amount > 10' } });
  });

  it('reports a missing variable once, not again as the bad value it leaves', () => {
    const result = parse('name: a\nsource: { type: generate }\ntransforms:\n  - type: filter\n    config:\n      expr: amount > ${MIN}\nsink: { type: stdout }\n', {});
    expect(result.problems?.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`)).toEqual([
      "6:22 transforms[0].config.expr: environment variable 'MIN' is not set",
    ]);
  });

  it('does not interpolate keys or comments', () => {
    const result = parse('name: a # ${NOT_A_VAR}\nsource: { type: generate }\nsink: { type: stdout }\n', {});
    expect(result.pipelines?.[0]?.name).toBe('a');
  });
});

describe('interpolation properties', () => {
  it('an environment value lands as it is in a quoted value, never read as YAML (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (value) => {
        const result = parsePipelineText('name: a\nsource: { type: file, config: { path: "${P}" } }\nsink: { type: stdout }\n', 'p.yaml', {
          env: { P: value },
          registry,
        });
        return result.pipelines?.[0]?.source.config['path'] === value;
      }),
      { seed: 13, numRuns: 200 },
    );
  });

  it('an expression error points at its column inside the quoted string, wherever that is (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z_]{0,8}$/).filter((f) => !['and', 'or', 'not', 'in'].includes(f)), fc.nat(6), fc.nat(6), (field, before, inside) => {
        const expr = `${field}${' '.repeat(inside)})`;
        const text = `name: a\nsource: { type: generate }\ntransforms:\n  - type: filter\n    config:\n      expr:${' '.repeat(before + 1)}"${expr}"\nsink: { type: stdout }\n`;
        const [problem] = parsePipelineText(text, 'p.yaml', { env: {}, registry }).problems ?? [];
        const exprColumn = field.length + inside + 1;
        return problem?.line === 6 && problem.column === 12 + before + 1 + exprColumn && problem.message.includes(`at column ${exprColumn}`);
      }),
      { seed: 14, numRuns: 200 },
    );
  });
});
