import { describe, expect, it } from 'vitest';
import { formatProblem, parsePipelineText } from '../../src/config/index.js';
import { registry } from './fake-registry.js';

/** Every problem of a file, formatted as the CLI prints them. */
function problems(text: string, env: Record<string, string> = {}): string[] {
  const result = parsePipelineText(text, 'pipeline.yaml', { env, registry, baseDir: '/base' });
  if (result.problems === undefined) throw new Error(`expected problems, got ${JSON.stringify(result.pipelines)}`);
  return result.problems.map(formatProblem);
}

const lines = (...l: string[]): string => l.join('\n') + '\n';

describe('each kind of bad pipeline file gives file:line:column path: message', () => {
  it('malformed YAML: the line and column of the syntax error', () => {
    expect(problems(lines('name: a', 'source: [1, 2', 'sink: x'))).toEqual([
      'pipeline.yaml:3:1 Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('a duplicate key is a syntax error at the repeated key', () => {
    expect(problems(lines('name: a', 'name: b'))).toEqual(['pipeline.yaml:2:1 Map keys must be unique']);
  });

  it('an unquoted ${VAR} inside { } is read as a reference, not as YAML braces: a missing one is named', () => {
    expect(problems(lines('name: a', 'source: { type: file, config: { path: ${P} } }', 'sink: { type: stdout }'))).toEqual([
      "pipeline.yaml:2:39 source.config.path: environment variable 'P' is not set",
    ]);
  });

  it('unknown component type, with the nearest known name', () => {
    expect(
      problems(lines('name: a', 'source: { type: fiel, config: { path: x } }', 'transforms:', '  - type: fliter', '    config: { expr: "true" }', 'sink: { type: stdot }')),
    ).toEqual([
      "pipeline.yaml:2:17 source.type: unknown source type 'fiel' (did you mean 'file'?)",
      "pipeline.yaml:4:11 transforms[0].type: unknown transform type 'fliter' (did you mean 'filter'?)",
      "pipeline.yaml:6:15 sink.type: unknown sink type 'stdot' (did you mean 'stdout'?)",
    ]);
  });

  it('unknown type with no near name lists the known ones', () => {
    expect(problems(lines('name: a', 'source: { type: kafka }', 'sink: { type: stdout }'))).toEqual([
      "pipeline.yaml:2:17 source.type: unknown source type 'kafka' (known: file, generate)",
    ]);
  });

  it('missing field: at the config that lacks it', () => {
    expect(
      problems(lines('name: orders', 'source:', '  type: file', '  config: { path: in.jsonl }', 'sink:', '  type: file', '  config:', '    format: jsonl', '    follow: true')),
    ).toEqual(['pipeline.yaml:8:5 sink.config.path: required']);
  });

  it('missing top-level fields: at the top of the file', () => {
    expect(problems(lines('name: a', 'source: { type: file, config: { path: x } }'))).toEqual(['pipeline.yaml:1:1 sink: required']);
  });

  it('mistyped field: at the value', () => {
    expect(
      problems(lines('name: a', 'source: { type: generate, config: { count: "ten" } }', 'sink: { type: stdout }', 'parallelism: 1.5', 'workers: -1')),
    ).toEqual([
      'pipeline.yaml:2:44 source.config.count: must be an integer, not string',
      'pipeline.yaml:4:14 parallelism: must be an integer, not number',
      "pipeline.yaml:5:10 workers: must be an integer >= 0 or 'auto', not -1",
    ]);
  });

  it('a value outside an enum, with the nearest allowed one', () => {
    expect(problems(lines('name: a', 'source: { type: file, config: { path: x, format: jsnl } }', 'sink: { type: stdout }', 'on_error: dead_lettr'))).toEqual([
      "pipeline.yaml:2:50 source.config.format: 'jsnl' is not one of: jsonl, lines, csv (did you mean 'jsonl'?)",
      "pipeline.yaml:4:11 on_error: 'dead_lettr' is not one of: dead_letter, fail, drop (did you mean 'dead_letter'?)",
    ]);
  });

  it('unknown field: at its key, with the nearest known field', () => {
    expect(problems(lines('name: a', 'source: { type: file, config: { pth: x } }', 'sink: { type: stdout }', 'paralelism: 2'))).toEqual([
      'pipeline.yaml:2:31 source.config.path: required',
      "pipeline.yaml:2:33 source.config.pth: unknown field 'pth' (did you mean 'path'?)",
      "pipeline.yaml:4:1 paralelism: unknown field 'paralelism' (did you mean 'parallelism'?)",
    ]);
  });

  it('bad expression: at the column inside the string', () => {
    expect(
      problems(
        lines(
          'name: a',
          'source: { type: file, config: { path: x } }',
          'transforms:',
          '  - type: filter',
          '    config:',
          '      expr: amount > )',
          '  - type: map',
          '    config:',
          '      set:',
          '        total: "round(amount * 1.2, 2) + uper(x)"',
          'sink: { type: stdout }',
        ),
      ),
    ).toEqual([
      "pipeline.yaml:6:22 transforms[0].config.expr: unexpected token ')' at column 10",
      "pipeline.yaml:10:42 transforms[1].config.set.total: unknown function 'uper' at column 26 (did you mean 'upper'?)",
    ]);
  });

  it('unset environment variable: at its ${', () => {
    expect(problems(lines('name: a', 'source:', '  type: file', '  config:', '    path: /data/${DIR}/in.jsonl', 'sink: { type: stdout }'))).toEqual([
      "pipeline.yaml:5:17 source.config.path: environment variable 'DIR' is not set",
    ]);
  });

  it('a bad name, a duplicate name', () => {
    expect(
      problems(
        lines(
          'pipelines:',
          '  - name: Orders',
          '    source: { type: generate }',
          '    sink: { type: stdout }',
          '  - name: b',
          '    source: { type: generate }',
          '    sink: { type: stdout }',
          '  - name: b',
          '    source: { type: generate }',
          '    sink: { type: stdout }',
        ),
      ),
    ).toEqual([
      "pipeline.yaml:2:11 pipelines[0].name: 'Orders' is not a valid name (1-63 characters of a-z, 0-9, '_' and '-')",
      "pipeline.yaml:8:11 pipelines[2].name: another pipeline is already named 'b'",
    ]);
  });

  it('bad retry durations, and on_error dead_letter without a dead_letter sink', () => {
    expect(
      problems(lines('name: a', 'source: { type: generate }', 'sink: { type: stdout }', 'on_error: dead_letter', 'retry: { max_attempts: 0, initial: 2x, max: true }')),
    ).toEqual([
      'pipeline.yaml:4:11 on_error: is dead_letter but the pipeline has no dead_letter sink',
      'pipeline.yaml:5:24 retry.max_attempts: must be >= 1',
      'pipeline.yaml:5:36 retry.initial: \'2x\' is not a duration (write milliseconds, or "100ms", "2s", "1m", "1h")',
      'pipeline.yaml:5:45 retry.max: must be a number or a string, not boolean',
    ]);
  });

  it('retry.initial above retry.max', () => {
    expect(problems(lines('name: a', 'source: { type: generate }', 'sink: { type: stdout }', 'retry: { initial: 5s, max: 1s }'))).toEqual([
      'pipeline.yaml:4:19 retry.initial: must not be more than retry.max (1000 ms)',
    ]);
  });

  it('the dead_letter sink is validated like any sink', () => {
    expect(problems(lines('name: a', 'source: { type: generate }', 'sink: { type: stdout }', 'dead_letter: { type: file }'))).toEqual([
      'pipeline.yaml:4:14 dead_letter.config.path: required',
    ]);
  });

  it('reports every problem in the file, in file order', () => {
    const found = problems(
      lines(
        'name: Bad Name',
        'source: { type: fiel }',
        'transforms:',
        '  - { type: filter, config: { expr: "a >" } }',
        '  - { type: map, config: { sett: {} } }',
        'sink: { type: file, config: { path: "${OUT}" } }',
        'batch_size: 0',
        'extra: 1',
      ),
    );
    expect(found).toEqual([
      "pipeline.yaml:1:7 name: 'Bad Name' is not a valid name (1-63 characters of a-z, 0-9, '_' and '-')",
      "pipeline.yaml:2:17 source.type: unknown source type 'fiel' (did you mean 'file'?)",
      'pipeline.yaml:4:41 transforms[0].config.expr: unexpected end of expression at column 4',
      "pipeline.yaml:5:28 transforms[1].config.sett: unknown field 'sett' (did you mean 'set'?)",
      "pipeline.yaml:6:38 sink.config.path: environment variable 'OUT' is not set",
      'pipeline.yaml:7:13 batch_size: must be >= 1',
      "pipeline.yaml:8:1 extra: unknown field 'extra' (known: name, source, transforms, sink, dead_letter, parallelism, workers, rate_limit, on_error, retry, batch_size, placement, transform_timeout)",
    ]);
  });

  it('a transform_timeout that is not a duration > 0', () => {
    const base = ['name: a', 'source: { type: generate }', 'sink: { type: stdout }'];
    expect(problems(lines(...base, 'transform_timeout: 0'))).toEqual(['pipeline.yaml:4:20 transform_timeout: must be > 0']);
    expect(problems(lines(...base, 'transform_timeout: soon'))).toEqual([
      `pipeline.yaml:4:20 transform_timeout: 'soon' is not a duration (write milliseconds, or "100ms", "2s", "1m", "1h")`,
    ]);
    expect(problems(lines(...base, 'transform_timeout: [1]'))).toHaveLength(1);
  });

  it('an empty file', () => {
    expect(problems('# only a comment\n')).toEqual(['pipeline.yaml:1:1 the file is empty (see docs/configuration.md)']);
  });

  it('a file that is not a mapping', () => {
    expect(problems('- a\n- b\n')).toEqual([
      'pipeline.yaml:1:1 a pipeline file is a mapping: name, source, transforms, sink… or pipelines: […] (see docs/configuration.md)',
    ]);
  });

  it('a component that is not a mapping, and a config that is not one', () => {
    expect(problems(lines('name: a', 'source: file', 'sink: { type: stdout, config: [1] }'))).toEqual([
      'pipeline.yaml:2:9 source: must be an object, not string',
      'pipeline.yaml:3:31 sink.config: must be an object or null, not array',
    ]);
  });

  it('an empty pipelines list', () => {
    expect(problems('pipelines: []\n')).toEqual(['pipeline.yaml:1:12 pipelines: must have at least 1 item']);
  });

  it('JSON: positions inside a JSON file', () => {
    const json = [
      '{',
      '  "name": "j",',
      '  "source": { "type": "file", "config": { "path": "in" } },',
      '  "transforms": [ { "type": "filter", "config": { "expr": "x >> 1" } } ],',
      '  "sink": { "type": "stdout" }',
      '}',
    ].join('\n');
    expect(problems(json)).toEqual(["pipeline.yaml:4:63 transforms[0].config.expr: unexpected token '>' at column 4"]);
  });
});

describe('component checks', () => {
  it("reports a component's own check failing, instead of stopping", async () => {
    const { Type } = await import('@sinclair/typebox');
    const { makeRegistry, stdoutSink, generateSource } = await import('./fake-registry.js');
    const broken = {
      kind: 'transform' as const,
      type: 'broken',
      description: 'a transform whose check throws',
      schema: Type.Object({}),
      check: () => {
        throw new Error('boom');
      },
      create: () => ({ process: (b: never[]) => b }),
    };
    const result = parsePipelineText('name: a\nsource: { type: generate }\ntransforms: [ { type: broken } ]\nsink: { type: stdout }\n', 'p.yaml', {
      env: {},
      registry: makeRegistry([generateSource, stdoutSink, broken]),
    });
    expect(result.problems?.map(formatProblem)).toEqual(['p.yaml:3:15 transforms[0].config: check failed: boom']);
  });
});
