import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire } from '../cli/harness.js';

// The expression functions end to end: text lines (format: lines) parsed, checked, reshaped; a bad line dead-lettered.
const PIPELINE = `name: access-log
source:
  type: file
  config: { path: access.log, format: lines }
transforms:
  - type: filter
    config: { expr: 'not matches(this, "^#")' }
  - type: map
    config:
      value: 'regex_parse(this, "^(?<ip>\\\\S+) \\\\[(?<time>[^\\\\]]+)\\\\] (?<request>.*)$")'
  - type: map
    config:
      set:
        at: format_time(parse_time(time, "%d/%b/%Y:%H:%M:%S %z"))
        day: format_time(parse_time(time, "%d/%b/%Y:%H:%M:%S %z"), "%F", "Europe/Paris")
        method: regex_extract(request, "^[A-Z]+")
        path: coalesce(regex_extract(request, "^[A-Z]+ (\\\\S+)", 1), "-")
        visitor: substring(sha256(ip), 0, 12)
        body: parse_json(regex_extract(request, "\\\\{.*\\\\}") ?? "null")
      remove: [ip, time, request]
sink:
  type: file
  config: { path: out.jsonl }
dead_letter:
  type: file
  config: { path: dlq.jsonl }
`;

const LOG = [
  '# a comment line, filtered out',
  '10.0.0.1 [01/May/2024:23:30:00 +0000] GET /index.html',
  '10.0.0.2 [02/May/2024:08:00:00 -0700] POST /api {"n": 2}',
  '10.0.0.3 [31/Apr/2024:00:00:00 +0000] GET /bad-date',
  '10.0.0.4 [02/May/2024:08:00:00 +0000] POST /api {"n": }',
  'not an access log line',
].join('\n');

describe('expression functions in a pipeline', () => {
  afterEach(cleanup);

  // visitor: the first 12 hex digits of sha256 of the address, as Python's hashlib gives them.
  it('parses text lines into objects, and sends the records a function cannot handle to the dead letter', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'pipeline.yaml'), PIPELINE);
    await writeFile(join(dir, 'access.log'), `${LOG}\n`);
    const validated = await runWire(['validate', 'pipeline.yaml'], { cwd: dir });
    expect(validated.code, validated.stderr).toBe(0);

    const result = await runWire(['run', 'pipeline.yaml'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^access-log: completed: 6 in, 2 out, 3 dead-lettered, 1 filtered in /m);
    const out = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(out).toEqual([
      { at: '2024-05-01T23:30:00.000Z', day: '2024-05-02', method: 'GET', path: '/index.html', visitor: 'f5047344122f', body: null },
      { at: '2024-05-02T15:00:00.000Z', day: '2024-05-02', method: 'POST', path: '/api', visitor: 'cb5f37b47628', body: { n: 2 } },
    ]);
    const dead = (await readFile(join(dir, 'dlq.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { error: string });
    expect(dead.map((d) => d.error)).toEqual([
      expect.stringContaining('parse_time() cannot read "31/Apr/2024:00:00:00 +0000" by its pattern: day 31 is not 1 to 30'),
      expect.stringContaining('parse_json() cannot parse its text as JSON'),
      expect.stringContaining('map needs an object value, got null'),
    ]);
  });

  it('wire validate reports a bad pattern at its line and column, before anything runs', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'pipeline.yaml'), 'name: p\nsource: { type: generate, config: { count: 1 } }\ntransforms:\n  - type: filter\n    config: { expr: \'matches(this, "(a+)+")\' }\nsink: { type: stdout }\n');
    const result = await runWire(['validate', 'pipeline.yaml'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^pipeline\.yaml:5:36 transforms\[0\]\.config\.expr: matches\(\): the pattern repeats a group that itself repeats without bound \('\(a\+\)\+'\).* at column 15$/m);
  });
});
