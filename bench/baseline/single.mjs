// Hand-written one-thread baseline: node single.mjs IN OUT filter-map|copy
// Reads 64 KiB at a time (decoded strings stay under V8's 128 KiB large-object threshold),
// cuts at the last newline, transforms the complete lines and writes once per chunk.
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import process from 'node:process';
import { countLines, filterMapLines, peakRssMb } from './transform.mjs';

const [, , input, output, mode = 'filter-map'] = process.argv;
const started = process.hrtime.bigint();
const inFd = fs.openSync(input, 'r');
const outFd = fs.openSync(output, 'w');
const buffer = Buffer.allocUnsafe(64 * 1024);
let carry = '';
let records = 0;
let bytes = 0;
try {
  for (;;) {
    const n = fs.readSync(inFd, buffer, 0, buffer.length, null);
    const text = carry + (n === 0 ? '' : buffer.toString('utf8', 0, n));
    bytes += n;
    const cut = n === 0 ? text.length : text.lastIndexOf('\n') + 1;
    const complete = text.slice(0, cut);
    carry = text.slice(cut);
    if (mode === 'copy') {
      records += countLines(complete);
      if (complete.length > 0) fs.writeSync(outFd, complete);
    } else {
      const result = filterMapLines(complete);
      records += result.records;
      if (result.text.length > 0) fs.writeSync(outFd, result.text);
    }
    if (n === 0) break;
  }
} finally {
  fs.closeSync(inFd);
  fs.closeSync(outFd);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(JSON.stringify({ baseline: `single-${mode}`, records, bytes, seconds, peak_rss_mb: peakRssMb() }) + '\n');
