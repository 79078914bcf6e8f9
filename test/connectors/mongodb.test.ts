// The mongodb source and sink through the official driver against the protocol-level fake (test/harness/mongodb.ts;
// no real MongoDB can be installed here): upserts by ids from positions, refused documents as RecordsRefused, the
// initial load then the change stream, resuming from a checkpointed position, and a server stopped mid-stream.
import { afterEach, describe, expect, it } from 'vitest';
import { MongoSink, mongoSinkDefinition } from '../../src/connectors/mongodb/sink.js';
import { MongoSource, mongoSourceDefinition } from '../../src/connectors/mongodb/source.js';
import { RecordsRefused } from '../../src/core/errors.js';
import { WireRecord, type Batch, type Position } from '../../src/core/record.js';
import { startFakeMongo, type FakeMongo } from '../harness/mongodb.js';
import { waitFor } from './helpers.js';

let fake: FakeMongo | undefined;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await fake?.close();
  fake = undefined;
});

const context = (controller = new AbortController()) => ({ pipeline: 'p', component: 'x', dataDir: '/nonexistent', signal: controller.signal });

async function sink(config: Record<string, unknown> = {}): Promise<MongoSink> {
  fake ??= await startFakeMongo();
  const s = mongoSinkDefinition.create({ url: fake.url, database: 'shop', collection: 'orders', ...config }) as MongoSink;
  open.push(s);
  await s.open(context());
  return s;
}

async function source(config: Record<string, unknown> = {}, from?: Position, controller = new AbortController()): Promise<AsyncIterator<Batch>> {
  fake ??= await startFakeMongo();
  const s = mongoSourceDefinition.create({ url: fake.url, database: 'shop', collection: 'orders', max_await: 100, ...config }) as MongoSource;
  open.push(s);
  await s.open({ ...context(controller), ...(from === undefined ? {} : { from }) });
  return s.read(100)[Symbol.asyncIterator]();
}

const batch = (from: number, to: number): Batch => Array.from({ length: to - from }, (_, i) => WireRecord.fromValue({ n: from + i }, from + i));

async function take(reader: AsyncIterator<Batch>, count: number): Promise<WireRecord[]> {
  const records: WireRecord[] = [];
  while (records.length < count) {
    const next = await reader.next();
    if (next.done === true) break;
    records.push(...next.value);
  }
  return records;
}

describe('mongodb sink', () => {
  it('upserts by ids from positions: writing a batch again overwrites it', async () => {
    const s = await sink();
    await s.write(batch(0, 50));
    await s.write(batch(25, 50));
    expect(fake!.documents('shop.orders')).toHaveLength(50);
    expect(fake!.collections.get('shop.orders')!.get('{"id":"p:7:1"}')).toEqual({ _id: 'p:7:1', n: 7 });
  });

  it('update mode sets fields on the document; insert mode counts a replayed _id as written', async () => {
    const u = await sink({ id: 'order-{value.n}', mode: 'update' });
    await u.write([WireRecord.fromValue({ n: 1, a: 1 }, 0)]);
    await u.write([WireRecord.fromValue({ n: 1, b: 2 }, 1)]);
    expect(fake!.documents('shop.orders')).toEqual([{ _id: 'order-1', n: 1, a: 1, b: 2 }]);
    const i = await sink({ mode: 'insert', collection: 'log' });
    await i.write(batch(0, 5));
    await i.write(batch(0, 5));
    expect(fake!.documents('shop.log')).toHaveLength(5);
  });

  it('hands back records that cannot be documents as RecordsRefused; the rest are written', async () => {
    const s = await sink();
    const error = await s.write([WireRecord.fromValue({ n: 1 }, 1), WireRecord.fromValue([1, 2], 2), WireRecord.fromValue('text', 3)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordsRefused);
    expect((error as RecordsRefused).records.map((r) => r.position)).toEqual([2, 3]);
    expect(fake!.documents('shop.orders')).toHaveLength(1);
  });

  it('waits for a stopped server and writes once it is back', async () => {
    const s = await sink();
    await fake!.stop();
    const writing = s.write(batch(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await fake!.start();
    await writing;
    expect(fake!.documents('shop.orders')).toHaveLength(10);
  });
});

describe('mongodb source', () => {
  it('reads every document, then the changes after the load, with before-the-load changes not lost', async () => {
    const writer = await sink({ id: '{value.k}' });
    await writer.write(Array.from({ length: 150 }, (_, k) => WireRecord.fromValue({ k: `d${String(k).padStart(3, '0')}` }, k)));
    const reader = await source();
    const loaded = await take(reader, 150);
    expect(loaded.map((r) => (r.value as { operation: string }).operation)).toEqual(Array(150).fill('read'));
    expect((loaded[0]!.value as { document: unknown }).document).toEqual({ _id: 'd000', k: 'd000' });
    // Sorted before the load's cursor: only the stream can bring it.
    await writer.write([WireRecord.fromValue({ k: 'a999' }, 200)]);
    const [change] = await take(reader, 1);
    expect(change!.value).toMatchObject({ operation: 'insert', database: 'shop', collection: 'orders', id: 'a999', document: { _id: 'a999', k: 'a999' } });
    expect(change!.key).toBe('a999');
  });

  it('resumes from a checkpointed position: the rest of the load, then the changes after its token', async () => {
    const writer = await sink({ id: '{value.k}' });
    await writer.write(Array.from({ length: 10 }, (_, k) => WireRecord.fromValue({ k: `d${k}` }, k)));
    const first = await source();
    const records = await take(first, 10);
    const midLoad = records[3]!.position!;
    const again = await source({}, midLoad);
    expect((await take(again, 6)).map((r) => (r.value as { id: string }).id)).toEqual(['d4', 'd5', 'd6', 'd7', 'd8', 'd9']);
    await writer.write([WireRecord.fromValue({ k: 'x1' }, 100), WireRecord.fromValue({ k: 'x2' }, 101)]);
    const changes = await take(first, 2);
    const fromChange = await source({}, changes[0]!.position!);
    expect((await take(fromChange, 1)).map((r) => (r.value as { id: string }).id)).toEqual(['x2']);
  });

  it('reads a change made between the change stream opening and its first getMore (snapshot: false)', async () => {
    // Seen in CI as one document missing: the source took its start token after the first getMore, so a change that
    // getMore brought was behind the token, and the stream resumed after it.
    fake = await startFakeMongo();
    const server = fake;
    let opened = false;
    server.lie = (command, reply) => {
      if (command === 'aggregate' && !opened) {
        opened = true;
        // An insert made right after the server answered the aggregate, as a real server may see one.
        const seq = server.events.length + 1;
        const document = { _id: 'early', k: 'early' };
        server.events.push({
          seq,
          event: { _id: { _data: seq.toString(16).padStart(16, '0') }, operationType: 'insert', clusterTime: new Date(), ns: { db: 'shop', coll: 'orders' }, documentKey: { _id: 'early' }, fullDocument: document },
        });
      }
      return reply;
    };
    const reader = await source({ snapshot: false });
    expect((await take(reader, 1)).map((r) => (r.value as { id: string }).id)).toEqual(['early']);
  });

  it('goes on reading changes after the server was stopped and started', async () => {
    const writer = await sink({ id: '{value.k}' });
    const reader = await source({ snapshot: false });
    const pending = take(reader, 2);
    // Without a snapshot the stream carries only changes made after it opened.
    await waitFor(() => fake!.changeStreams() > 0, 'the change stream to open');
    await writer.write([WireRecord.fromValue({ k: 'a' }, 1)]);
    await fake!.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fake!.start();
    await writer.write([WireRecord.fromValue({ k: 'b' }, 2)]);
    expect((await pending).map((r) => (r.value as { id: string }).id)).toEqual(['a', 'b']);
  });
});
