import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WireError } from '../core/errors.js';
import { TEST_FILE } from './test-file.js';

/** Directories a search never enters: dependencies and hidden ones (.git, .wire). */
function skipped(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.');
}

async function testFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !skipped(entry.name)) found.push(...(await testFilesUnder(path)));
    else if (entry.isFile() && TEST_FILE.test(entry.name)) found.push(path);
  }
  return found;
}

/** `foo.yaml` → its tests, `foo.test.yaml` (or `.yml`); NOT_FOUND when it has none. */
function testsOf(pipelineFile: string): string {
  const stem = pipelineFile.replace(/\.(ya?ml|json)$/, '');
  const candidates = [`${stem}.test.yaml`, `${stem}.test.yml`];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) {
    throw new WireError('NOT_FOUND', `${pipelineFile} has no tests: write them in ${candidates[0]} (see docs/testing.md)`, { path: pipelineFile });
  }
  return found;
}

/**
 * The test files PATHS stand for, each once, in order: a directory's `*.test.yaml` files at any depth, a test file
 * itself, or a pipeline file's tests beside it. NOT_FOUND for a path that does not exist or holds no tests.
 */
export async function findTestFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (err) {
      throw new WireError('NOT_FOUND', `no such file or directory: ${path}`, { path }, err);
    }
    if (isDirectory) {
      const under = await testFilesUnder(path);
      if (under.length === 0) throw new WireError('NOT_FOUND', `no test files (*.test.yaml) under ${path} (see docs/testing.md)`, { path });
      files.push(...under);
    } else {
      files.push(TEST_FILE.test(path) ? path : testsOf(path));
    }
  }
  return [...new Set(files)];
}
