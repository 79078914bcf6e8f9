// The fenced blocks of the user docs, as the docs test (docs.test.ts) runs them. See CONTRIBUTING.md.

/** Languages of blocks that hold commands the test runs. */
const COMMAND_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console']);
/** Languages of code and configuration, which are neither commands nor output: not checked here. */
const CODE_LANGUAGES = new Set(['yaml', 'yml', 'ts', 'typescript', 'js', 'javascript', 'mjs']);

export const ILLUSTRATIVE = /^<!--\s*illustrative\b[^>]*-->\s*$/;

export interface Block {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly language: string;
  readonly body: string;
  /** The nearest non-blank line before the fence is `<!-- illustrative -->`. */
  readonly illustrative: boolean;
}

/** Every fenced block (``` or ~~~) of a Markdown text, in order. */
export function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (open === null) continue;
    const fence = open[2]!;
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trimStart().startsWith(fence)) j++;
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    blocks.push({
      line: i + 1,
      language: open[3]!.toLowerCase(),
      body: lines.slice(i + 1, j).join('\n'),
      illustrative: k >= 0 && ILLUSTRATIVE.test(lines[k]!.trim()),
    });
    i = j;
  }
  return blocks;
}

/** One command and the output the docs show for it (undefined: not compared, but it must exit 0). */
export interface Step {
  readonly command: string;
  readonly expected: string | undefined;
}

export type Plan =
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'run'; readonly steps: readonly Step[] }
  | { readonly kind: 'unmarked'; readonly reason: string };

/**
 * What the test does with each block: a `console` block is `$ command` lines, each followed by its output; a
 * `sh` block is commands, compared with the output block right after it when there is one (nothing but blank
 * lines between), else only required to succeed. Other blocks that are not code must be marked illustrative
 * or be the output of the command block before them.
 */
export function plan(blocks: readonly Block[], markdown: string): Plan[] {
  const lines = markdown.split('\n');
  const plans: Plan[] = [];
  const outputOf = new Set<number>();
  blocks.forEach((block, i) => {
    if (block.illustrative) {
      plans.push({ kind: 'skip', reason: 'illustrative' });
    } else if (CODE_LANGUAGES.has(block.language)) {
      plans.push({ kind: 'skip', reason: `${block.language} code` });
    } else if (outputOf.has(i)) {
      plans.push({ kind: 'skip', reason: 'output of the block before it' });
    } else if (block.language === 'console') {
      plans.push({ kind: 'run', steps: consoleSteps(block.body) });
    } else if (COMMAND_LANGUAGES.has(block.language)) {
      const next = blocks[i + 1];
      const end = block.line + block.body.split('\n').length + 1;
      const between = next === undefined ? [] : lines.slice(end, next.line - 1);
      const attached = next !== undefined && !next.illustrative && !COMMAND_LANGUAGES.has(next.language) && !CODE_LANGUAGES.has(next.language) && between.every((l) => l.trim() === '');
      if (attached) outputOf.add(i + 1);
      plans.push({ kind: 'run', steps: [{ command: block.body, expected: attached ? next.body : undefined }] });
    } else {
      plans.push({ kind: 'unmarked', reason: `a \`\`\`${block.language} block that is neither run (sh, console) nor marked <!-- illustrative -->` });
    }
  });
  return plans;
}

function consoleSteps(body: string): Step[] {
  const steps: { command: string; output: string[] }[] = [];
  for (const line of body.split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
    else if (steps.length > 0) steps[steps.length - 1]!.output.push(line);
  }
  return steps.map((s) => ({ command: s.command, expected: s.output.join('\n') }));
}

/**
 * What may differ from run to run, made the same on both sides before they are compared: durations, rates,
 * memory, timestamps and UUIDs. Documented in CONTRIBUTING.md.
 */
const NORMALISE: readonly (readonly [RegExp, string])[] = [
  [/\bin \d+(\.\d+)? s\b/g, 'in <seconds> s'],
  [/\([\d,.]+k? records\/s/g, '(<rate> records/s'],
  [/peak RSS \d+ MB/g, 'peak RSS <mb> MB'],
  [/"(elapsed_s|records_per_s|peak_rss_mb|time)":("[^"]*"|[\d.e+-]+)/g, '"$1":<varies>'],
  [/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g, '<timestamp>'],
  [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>'],
];

export function normalise(text: string): string {
  let out = text.replace(/\r\n/g, '\n');
  for (const [pattern, replacement] of NORMALISE) out = out.replace(pattern, replacement);
  return out.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
}

/** True when `actual` is `expected`, where an expected line `...` stands for any number of lines. */
export function matchesOutput(expected: string, actual: string): boolean {
  const want = normalise(expected).split('\n');
  const got = normalise(actual).split('\n');
  const match = (w: number, g: number): boolean => {
    if (w === want.length) return g === got.length;
    if (want[w] === '...') {
      for (let k = g; k <= got.length; k++) if (match(w + 1, k)) return true;
      return false;
    }
    return g < got.length && want[w] === got[g] && match(w + 1, g + 1);
  };
  return match(0, 0);
}
