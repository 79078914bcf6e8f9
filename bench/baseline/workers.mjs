// Hand-written worker-thread baseline: node workers.mjs IN OUT W
// The main thread reads 64 KiB slabs cut at newlines and hands their bytes (transferred, not copied)
// to W workers round-robin; workers filter+map; the main thread writes results in input order.
// At most 2 slabs per worker are in flight, so memory stays bounded.
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { filterMapLines, peakRssMb } from './transform.mjs';

if (!isMainThread) {
  parentPort.on('message', ({ seq, bytes }) => {
    const result = filterMapLines(Buffer.from(bytes).toString('utf8'));
    const out = Buffer.from(result.text);
    const transferable = out.buffer.slice(out.byteOffset, out.byteOffset + out.length);
    parentPort.postMessage({ seq, records: result.records, bytes: transferable }, [transferable]);
  });
} else {
  const [, , input, output, countText = '2'] = process.argv;
  const workerCount = Number(countText);
  const started = process.hrtime.bigint();
  const inFd = fs.openSync(input, 'r');
  const outFd = fs.openSync(output, 'w');
  const workers = Array.from({ length: workerCount }, () => new Worker(new URL(import.meta.url)));
  let records = 0;
  let bytesRead = 0;
  try {
    await new Promise((resolve, reject) => {
      const ready = new Map();
      let nextSeq = 0;
      let nextToWrite = 0;
      let inFlight = 0;
      let ended = false;
      let carry = Buffer.alloc(0);

      const dispatch = (slab) => {
        const copy = new ArrayBuffer(slab.length);
        new Uint8Array(copy).set(slab);
        const seq = nextSeq++;
        inFlight++;
        workers[seq % workerCount].postMessage({ seq, bytes: copy }, [copy]);
      };
      const fill = () => {
        while (!ended && inFlight < workerCount * 2) {
          const chunk = Buffer.allocUnsafe(64 * 1024);
          const n = fs.readSync(inFd, chunk, 0, chunk.length, null);
          bytesRead += n;
          if (n === 0) {
            ended = true;
            if (carry.length > 0) dispatch(carry);
            break;
          }
          const data = carry.length === 0 ? chunk.subarray(0, n) : Buffer.concat([carry, chunk.subarray(0, n)]);
          const cut = data.lastIndexOf(10) + 1;
          carry = Buffer.from(data.subarray(cut));
          if (cut > 0) dispatch(data.subarray(0, cut));
        }
        if (ended && inFlight === 0) resolve();
      };
      for (const worker of workers) {
        worker.on('error', reject);
        worker.on('message', ({ seq, records: n, bytes }) => {
          ready.set(seq, Buffer.from(bytes));
          records += n;
          inFlight--;
          while (ready.has(nextToWrite)) {
            const out = ready.get(nextToWrite);
            if (out.length > 0) fs.writeSync(outFd, out);
            ready.delete(nextToWrite++);
          }
          fill();
        });
      }
      fill();
    });
  } finally {
    fs.closeSync(inFd);
    fs.closeSync(outFd);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(
    JSON.stringify({ baseline: `workers-${workerCount}`, records, bytes: bytesRead, seconds, peak_rss_mb: peakRssMb() }) + '\n',
  );
}
