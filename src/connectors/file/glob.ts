import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** True when a path holds a wildcard (`*`, `?`), so it names a set of files rather than one. */
export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

type Segment = '**' | RegExp;

function segmentMatcher(segment: string): Segment {
  if (segment === '**') return '**';
  let source = '^';
  for (const ch of segment) {
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(source + '$');
}

/** Wildcards do not match a leading dot, as in shells: `*` skips `.git` unless the pattern says `.*`. */
function matches(segment: RegExp, pattern: string, name: string): boolean {
  if (name.startsWith('.') && !pattern.startsWith('.')) return false;
  return segment.test(name);
}

async function kindOf(path: string, isFile: boolean, isDir: boolean, isLink: boolean): Promise<'file' | 'dir' | 'other'> {
  if (isFile) return 'file';
  if (isDir) return 'dir';
  if (!isLink) return 'other';
  const target = await stat(path).catch(() => undefined);
  if (target === undefined) return 'other';
  return target.isFile() ? 'file' : target.isDirectory() ? 'dir' : 'other';
}

/**
 * Expands a glob into the regular files it matches, sorted by path (byte order), so a multi-file read
 * has one stable order to resume in. `*` and `?` match within one path segment, `**` any number of
 * directories. Node 20 has no fs.glob.
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  const parts = pattern.replaceAll('\\', '/').split('/');
  if (parts[parts.length - 1] === '**') parts.push('*');
  let firstWild = parts.findIndex((p) => isGlob(p));
  if (firstWild < 0) firstWild = parts.length - 1;
  const baseParts = parts.slice(0, firstWild);
  const base = baseParts.length === 0 ? '.' : baseParts.join('/') || '/';
  const patterns = parts.slice(firstWild);
  const segments = patterns.map(segmentMatcher);
  const found = new Set<string>();

  const walk = async (dir: string, index: number): Promise<void> => {
    const segment = segments[index]!;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    if (segment === '**') {
      await walk(dir, index + 1);
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        const kind = await kindOf(path, entry.isFile(), entry.isDirectory(), entry.isSymbolicLink());
        if (kind === 'dir') await walk(path, index);
      }
      return;
    }
    const last = index === segments.length - 1;
    for (const entry of entries) {
      if (!matches(segment, patterns[index]!, entry.name)) continue;
      const path = join(dir, entry.name);
      const kind = await kindOf(path, entry.isFile(), entry.isDirectory(), entry.isSymbolicLink());
      if (last && kind === 'file') found.add(path);
      else if (!last && kind === 'dir') await walk(path, index + 1);
    }
  };

  await walk(base, 0);
  return [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
