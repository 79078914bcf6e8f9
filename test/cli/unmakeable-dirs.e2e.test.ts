// A directory Wire must make that cannot exist (under /proc, where Node 20's recursive mkdir never settles and
// keeps the process from exiting) fails the run at once with an error to act on, for the file sink and the data dir.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire } from './harness.js';

afterEach(cleanup);

describe.runIf(process.platform === 'linux')('directories that cannot be made', () => {
  it('a file sink under /proc: exit 2 and the path, not a spinning process', { timeout: 60_000 }, async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.jsonl'), '{"a":1}\n');
    const file = join(dir, 'p.yaml');
    await writeFile(file, ['name: unmakeable', 'source: { type: file, config: { path: in.jsonl } }', 'sink: { type: file, config: { path: /proc/wire-none/out.jsonl } }', ''].join('\n'));
    const result = await runWire(['run', file, '--data-dir', join(dir, 'data')], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('wire: INVALID_INPUT: file sink: cannot create the directory of /proc/wire-none/out.jsonl');
  });

  it('a data dir under /proc: exit 7 naming the data dir', { timeout: 60_000 }, async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.jsonl'), '{"a":1}\n');
    const file = join(dir, 'p.yaml');
    await writeFile(file, ['name: unmakeable', 'source: { type: file, config: { path: in.jsonl } }', 'sink: { type: file, config: { path: out.jsonl } }', ''].join('\n'));
    const result = await runWire(['run', file, '--data-dir', '/proc/wire-none/data'], { cwd: dir });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('cannot open the checkpoint store in /proc/wire-none/data');
  });
});
