// A minimal terminal for tests: replays what a program wrote to a pseudo-terminal and returns the lines a person
// would see. It knows the sequences Wire's progress line may use (cursor up, clear line, clear to the end of the
// screen) and throws on any other, so a test cannot pass by ignoring what it does not understand.
// The screen is unbounded (no scrolling, no wrapping): every line ever printed stays, as in a scrollback.

const ESC = '\x1b';

/** The control sequence starting at `at` (ESC [ digits letter): its number (0 when absent) and letter. */
function sequenceAt(output: string, at: number): { n: number; letter: string; length: number } {
  if (output[at + 1] !== '[') throw new Error(`unknown escape at ${at}: ${JSON.stringify(output.slice(at, at + 8))}`);
  let end = at + 2;
  while (end < output.length && output[end]! >= '0' && output[end]! <= '9') end++;
  const letter = output[end] ?? '';
  if (!/^[A-Za-z]$/.test(letter)) throw new Error(`unknown escape at ${at}: ${JSON.stringify(output.slice(at, at + 8))}`);
  const digits = output.slice(at + 2, end);
  return { n: digits === '' ? 0 : Number(digits), letter, length: end + 1 - at };
}

/** Every control sequence written, without its ESC [ (e.g. `2K`, `1A`). */
export function controlSequences(output: string): string[] {
  const found: string[] = [];
  for (let at = output.indexOf(ESC); at !== -1; at = output.indexOf(ESC, at + 1)) {
    const { length } = sequenceAt(output, at);
    found.push(output.slice(at + 2, at + length));
  }
  return found;
}

export function screenOf(output: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = (): string[] => (lines[row] ??= []);
  for (let i = 0; i < output.length; i++) {
    const ch = output[i]!;
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      line();
    } else if (ch === ESC) {
      const { n, letter, length } = sequenceAt(output, i);
      if (letter === 'A') row = Math.max(0, row - Math.max(1, n));
      else if (letter === 'K' && n === 2) lines[row] = [];
      else if (letter === 'K' && n === 0) line().length = Math.min(line().length, col);
      else if (letter === 'J' && n === 0) {
        line().length = Math.min(line().length, col);
        lines.length = row + 1;
      } else throw new Error(`unknown escape: ESC [${n}${letter}`);
      i += length - 1;
    } else {
      const current = line();
      while (current.length < col) current.push(' ');
      current[col++] = ch;
    }
  }
  return lines.map((chars) => chars.join('').trimEnd());
}
