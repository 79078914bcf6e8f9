// The work every baseline does per record, kept in one place so the one-thread and worker
// baselines (and Wire's pipeline in bench/engine.ts) measure the same thing:
// keep records with amount > 100, upper-case user, add total = amount * 1.2.
import process from 'node:process';

/** Filters and maps the complete lines of `text`; returns how many lines were read and the output text. */
export function filterMapLines(text) {
  const out = [];
  let records = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) {
      records++;
      const value = JSON.parse(text.slice(start, end));
      if (value.amount > 100) {
        value.user = value.user.toUpperCase();
        value.total = value.amount * 1.2;
        out.push(JSON.stringify(value));
      }
    }
    start = end + 1;
  }
  return { records, text: out.length === 0 ? '' : out.join('\n') + '\n' };
}

/** Counts the non-empty lines of `text` (the pass-through baseline copies bytes and counts records). */
export function countLines(text) {
  let records = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) records++;
    start = end + 1;
  }
  return records;
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb() {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
