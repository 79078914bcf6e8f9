/** Edit distance counting a swap of two neighbours as one edit (so 'fliter' is one edit from 'filter'). */
function editDistance(a: string, b: string): number {
  const cols = b.length + 1;
  let previous2: number[] = [];
  let previous: number[] = Array.from({ length: cols }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, previous2[j - 2]! + 1);
      row.push(best);
    }
    previous2 = previous;
    previous = row;
  }
  return previous[cols - 1]!;
}

/** The candidate nearest to `word`, if near enough to be what the user meant. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(2, Math.ceil(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** ` (did you mean 'x'?)`, or the list of known names when none is near. */
export function suggestion(word: string, candidates: readonly string[]): string {
  const guess = closest(word, candidates);
  if (guess !== undefined) return ` (did you mean '${guess}'?)`;
  return candidates.length === 0 ? '' : ` (known: ${candidates.join(', ')})`;
}
