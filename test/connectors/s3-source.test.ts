// The s3 source against the fake S3 server (s3rver, not AWS): its line blocks (the engine's fast path) give the
// records, positions and unreadable lines that its record path gives, and both skip blank lines.
import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3Source, s3SourceDefinition } from '../../src/connectors/s3/source.js';
import { recordsOf, type LineBlock } from '../../src/core/line-block.js';
import type { Position, WireRecord } from '../../src/core/record.js';
import { startS3, type S3Server } from '../harness/s3.js';
import { openOptions, readAll } from './helpers.js';
import { createBucket, putObject, s3Client } from './s3-records.js';

let server: S3Server | undefined;
let client: S3Client | undefined;
beforeEach(async () => {
  server = await startS3();
  client = await s3Client(server.config);
  await createBucket(client, 'data');
});
afterEach(async () => {
  client?.destroy();
  client = undefined;
  await server?.stop();
  server = undefined;
});

const source = (): S3Source => s3SourceDefinition.create({ ...server!.config, bucket: 'data', prefix: 'in/' }) as S3Source;

async function readBlocks(from?: Position): Promise<LineBlock[]> {
  const s = source();
  await s.open(openOptions(undefined, from));
  const out: LineBlock[] = [];
  try {
    for await (const block of s.blocks()) out.push(block);
  } finally {
    await s.close();
  }
  return out;
}

/** A record as the tests compare it: its text, or the error and position of an unreadable line. */
function seen(record: WireRecord): unknown {
  return record.unreadable === undefined ? record.text() : { unreadable: record.unreadable.message, at: record.position };
}

/** The records of the blocks, an unreadable line placed as the engine places it (`lineEnd`). */
function blockRecords(blocks: LineBlock[]): unknown[] {
  return blocks.flatMap((b) =>
    recordsOf(b, false, 0).map((r) => {
      if (r.unreadable !== undefined) r.position = b.lineEnd!(r.position as number);
      return seen(r);
    }),
  );
}

const A = '{"n":0}\n\n{"n":1}\r\n \t\nnot json\n{"n":2}';
const B = '{"n":3}\n{"n":4}\n';

describe('s3 source', () => {
  it('blocks give the records, unreadable lines and end positions of read(); blank lines carry no record', { timeout: 60_000 }, async () => {
    await putObject(client!, 'data', 'in/a.jsonl', A);
    await putObject(client!, 'data', 'in/b.jsonl', B);
    const batches = await readAll(source(), openOptions());
    const records = batches.flat();
    const expected = records.map(seen);
    expect(expected).toEqual([
      '{"n":0}',
      '{"n":1}\r',
      { unreadable: expect.stringContaining('malformed JSON') as unknown, at: { key: 'in/a.jsonl', offset: A.indexOf('{"n":2}') } },
      '{"n":2}',
      '{"n":3}',
      '{"n":4}',
    ]);
    const blocks = await readBlocks();
    expect(blocks.map((b) => b.position)).toEqual([
      { key: 'in/a.jsonl', offset: A.length },
      { key: 'in/b.jsonl', offset: B.length },
    ]);
    // The same records (the block path's decoder takes the CR off a line's end, as the file source's does).
    expect(blockRecords(blocks)).toEqual(expected.map((r) => (r === '{"n":1}\r' ? '{"n":1}' : r)));
    expect(records[records.length - 1]!.position).toEqual(blocks[blocks.length - 1]!.position);
  });

  it('resume in an object from its checkpointed offset, as read() does', { timeout: 60_000 }, async () => {
    await putObject(client!, 'data', 'in/a.jsonl', A);
    await putObject(client!, 'data', 'in/b.jsonl', B);
    const from = { key: 'in/a.jsonl', offset: A.indexOf('not json') };
    const blocks = await readBlocks(from);
    expect(blocks[0]!.position).toEqual({ key: 'in/a.jsonl', offset: A.length });
    expect(blockRecords(blocks)).toEqual((await readAll(source(), openOptions(undefined, from))).flat().map(seen));
    expect(blockRecords(blocks)).toHaveLength(4);
  });

  it('cut a large object into blocks at newlines, each in memory of its own and ended by a newline', { timeout: 60_000 }, async () => {
    const lines = Array.from({ length: 20_000 }, (_, n) => JSON.stringify({ n, pad: 'x'.repeat(n % 50), u: n % 7 === 0 ? 'é€' : '' }));
    const body = lines.join('\n') + '\n';
    await putObject(client!, 'data', 'in/big.jsonl', body);
    const blocks = await readBlocks();
    expect(blocks.length).toBeGreaterThan(2);
    for (const b of blocks) {
      expect(b.data[b.data.length - 1]).toBe(10);
      expect(b.data.byteOffset).toBe(0);
      expect(b.data.buffer.byteLength).toBe(b.data.length);
    }
    expect(Buffer.concat(blocks.map((b) => b.data)).toString('utf8')).toBe(body);
    expect(blocks[blocks.length - 1]!.position).toEqual({ key: 'in/big.jsonl', offset: Buffer.byteLength(body) });
    expect(blockRecords(blocks)).toEqual(lines);
  });
});
