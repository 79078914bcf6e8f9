import { describe, expect, it } from 'vitest';
import { fencedBlocks, matchesOutput, normalise, plan } from './blocks.js';

const md = (...l: string[]): string => l.join('\n') + '\n';

describe('the docs test reads blocks as CONTRIBUTING.md says', () => {
  it('a console block is $ commands, each with the output after it', () => {
    const text = md('```console', '$ wire validate p.yaml', 'OK: p.yaml: 1 pipeline (a)', '$ echo hi', 'hi', '```');
    expect(plan(fencedBlocks(text), text)).toEqual([
      { kind: 'run', steps: [{ command: 'wire validate p.yaml', expected: 'OK: p.yaml: 1 pipeline (a)' }, { command: 'echo hi', expected: 'hi' }] },
    ]);
  });

  it('a sh block takes the plain block right after it as its output; with prose between, it has none', () => {
    const text = md('```sh', 'echo a', '```', '', '```', 'a', '```', '', '```sh', 'true', '```', 'Some prose.', '```', 'x', '```');
    const plans = plan(fencedBlocks(text), text);
    expect(plans[0]).toEqual({ kind: 'run', steps: [{ command: 'echo a', expected: 'a' }] });
    expect(plans[1]).toEqual({ kind: 'skip', reason: 'output of the block before it' });
    expect(plans[2]).toEqual({ kind: 'run', steps: [{ command: 'true', expected: undefined }] });
    expect(plans[3]?.kind).toBe('unmarked');
  });

  it('<!-- illustrative --> before a block (blank lines allowed) exempts it; code blocks need nothing', () => {
    const text = md('<!-- illustrative: a diagram -->', '', '```', 'a ──▶ b', '```', '```yaml', 'a: 1', '```', '```json', '{}', '```');
    expect(plan(fencedBlocks(text), text).map((p) => p.kind)).toEqual(['skip', 'skip', 'unmarked']);
  });

  it('normalises times, rates, memory, timestamps and UUIDs, and nothing else', () => {
    expect(normalise('q: completed: 3 in, 3 out in 0.048 s (6,250 records/s, peak RSS 92 MB)\n')).toBe(
      'q: completed: 3 in, 3 out in <seconds> s (<rate> records/s, peak RSS <mb> MB)',
    );
    expect(normalise('{"elapsed_s":2.01,"records_in":5,"time":"2024-05-01T12:00:00.000Z"} 018f3a2b-1c2d-7e3f-8a9b-0c1d2e3f4a5b')).toBe(
      '{"elapsed_s":<varies>,"records_in":5,"time":<varies>} <uuid>',
    );
    expect(matchesOutput('3 in, 3 out', '3 in, 4 out')).toBe(false);
  });

  it('an expected line ... stands for any number of lines', () => {
    expect(matchesOutput('first\n...\nlast', 'first\na\nb\nlast\n')).toBe(true);
    expect(matchesOutput('first\n...\nlast', 'first\nlast')).toBe(true);
    expect(matchesOutput('first\n...\nlast', 'first\na\n')).toBe(false);
  });
});
