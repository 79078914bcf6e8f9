import { createRegistry } from '../../connectors/registry.js';
import { WireError } from '../../core/errors.js';
import { findTestFiles } from '../../testing/discover.js';
import { runTestFile } from '../../testing/suite.js';
import { EXIT_OK, exitCodeOf, formatError } from '../exit.js';
import type { CliIo } from '../io.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((line) => by + line)
    .join('\n');
}

/**
 * `wire test [PATH...]`: runs the tests written beside pipeline files (docs/testing.md) and prints each file and
 * test with its result, a diff for each mismatch. Exits 0 when every test passed, 2 when any failed or could not run.
 */
export async function testCommand(paths: readonly string[], io: CliIo): Promise<number> {
  const files = await findTestFiles(paths.length === 0 ? ['.'] : paths);
  const registry = createRegistry();
  let passed = 0;
  let failed = 0;
  let broken = 0;
  for (const path of files) {
    const result = await runTestFile(path, { registry, env: io.env });
    if (result.problems.length > 0) {
      broken++;
      io.stdout(`FAIL ${path}: cannot run its tests\n${result.problems.map((p) => `  ${p}\n`).join('')}`);
      continue;
    }
    const bad = result.cases.filter((c) => c.failures.length > 0).length;
    io.stdout(`${bad === 0 ? 'ok  ' : 'FAIL'} ${path}\n`);
    for (const c of result.cases) {
      io.stdout(`  ${c.failures.length === 0 ? 'ok  ' : 'FAIL'} ${c.name}\n`);
      for (const failure of c.failures) io.stdout(indent(failure, '       ') + '\n');
    }
    passed += result.cases.length - bad;
    failed += bad;
  }
  const total = passed + failed;
  io.stdout(`${plural(total, 'test')}: ${passed} passed, ${failed} failed (${plural(files.length, 'file')}${broken > 0 ? `, ${broken} could not run` : ''})\n`);
  if (failed === 0 && broken === 0) return EXIT_OK;
  const what = [failed > 0 ? `${failed} of ${plural(total, 'test')} failed` : '', broken > 0 ? `${plural(broken, 'test file')} could not run` : ''];
  const error = new WireError('INVALID_INPUT', what.filter((w) => w !== '').join('; '));
  io.stderr(formatError(error, { debug: false }));
  return exitCodeOf(error);
}
