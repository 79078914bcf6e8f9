import { SecretRedactor } from './redact.js';
import type { SourceMap } from './source-map.js';
import { formatPath, type DocPath, type Problem } from './problem.js';

export interface ReportOptions {
  /** Point at the key (an unknown field) rather than the value. */
  readonly key?: boolean;
  /** 0-based index of the character at fault inside a string value (an expression, a `${`). */
  readonly inner?: number;
}

function startsWith(path: DocPath, prefix: DocPath): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => path[i] === s);
}

/** Collects problems with their line:column, computed as they are found (before values are rewritten). */
export class Reporter {
  private readonly problems: Problem[] = [];
  private readonly tainted: DocPath[] = [];
  /** Values read from secret files: no message shows them (a schema error would quote a wrong value). */
  readonly secrets = new SecretRedactor();

  constructor(
    private readonly file: string,
    private readonly map: SourceMap,
  ) {}

  add(path: DocPath, message: string, options: ReportOptions = {}): void {
    // A value whose interpolation failed is not worth judging again: its problem is already told.
    if (this.tainted.some((t) => startsWith(path, t))) return;
    const { line, column } = this.map.locate(path, options.key ?? false, options.inner);
    this.problems.push({ file: this.file, line, column, path: formatPath(path), message: this.secrets.redact(message) });
  }

  /** Reports at a text offset (a YAML syntax error). */
  addAtOffset(offset: number, message: string): void {
    const { line, column } = this.map.position(offset);
    this.problems.push({ file: this.file, line, column, path: '', message });
  }

  /** Problems found later at or under `path` are not reported. */
  taint(path: DocPath): void {
    this.tainted.push(path);
  }

  get count(): number {
    return this.problems.length;
  }

  /** Every problem, in the order of the file. */
  list(): Problem[] {
    return [...this.problems].sort((a, b) => a.line - b.line || a.column - b.column);
  }
}
