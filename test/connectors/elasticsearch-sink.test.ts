// The elasticsearch sink's writes through the official client against the protocol-level fake (test/harness):
// ids from positions make a replay overwrite, refused items come back as RecordsRefused while the rest stay
// written, 429 items are retried alone, a stopped server is waited for, and configs that cannot work are refused.
import { afterEach, describe, expect, it } from 'vitest';
import { bulkLines, sortItems } from '../../src/connectors/elasticsearch/bulk.js';
import { ElasticsearchSink, elasticsearchSinkDefinition } from '../../src/connectors/elasticsearch/sink.js';
import { RecordsRefused, WireError } from '../../src/core/errors.js';
import { WireRecord, type Batch } from '../../src/core/record.js';
import { startFakeElasticsearch, type FakeElasticsearch } from '../harness/elasticsearch.js';

const sinks: ElasticsearchSink[] = [];
let fake: FakeElasticsearch | undefined;
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await fake?.close();
  fake = undefined;
});

async function sink(config: Record<string, unknown>, pipeline = 'p'): Promise<ElasticsearchSink> {
  fake ??= await startFakeElasticsearch();
  const s = elasticsearchSinkDefinition.create({ url: fake.url, index: 'orders', ...config }) as ElasticsearchSink;
  sinks.push(s);
  await s.open({ pipeline, component: 'sink', dataDir: '/nonexistent', signal: new AbortController().signal });
  return s;
}

const batch = (from: number, to: number, extra: Record<string, unknown> = {}): Batch =>
  Array.from({ length: to - from }, (_, i) => WireRecord.fromValue({ n: from + i, ...extra }, from + i));

describe('bulk items', () => {
  it('writes the action and source lines, update as a partial document that creates a missing one', () => {
    expect(bulkLines('index', 'i', 'a"b', '{"x":1}')).toBe('{"index":{"_index":"i","_id":"a\\"b"}}\n{"x":1}\n');
    expect(bulkLines('create', 'i', undefined, '{}')).toBe('{"create":{"_index":"i"}}\n{}\n');
    expect(bulkLines('update', 'i', '1', '{"x":1}')).toBe('{"update":{"_index":"i","_id":"1"}}\n{"doc":{"x":1},"doc_as_upsert":true}\n');
  });

  it('sorts an answer: 2xx written, 409 to create written, 429 retried, the rest refused (also items missing from the answer)', () => {
    const items = [0, 1, 2, 3, 4].map((n) => ({ record: WireRecord.fromValue({ n }), index: 'i', id: String(n), lines: '' }));
    const outcome = sortItems('create', items, [
      { create: { status: 201 } },
      { create: { status: 409, error: { type: 'version_conflict_engine_exception' } } },
      { create: { status: 429 } },
      { create: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'bad n' } } },
    ]);
    expect(outcome.retry.map((i) => i.id)).toEqual(['2']);
    expect(outcome.refused.map((i) => i.id)).toEqual(['3', '4']);
    expect(outcome.firstReason).toBe('i/3: 400 mapper_parsing_exception: bad n');
    expect(sortItems('index', items.slice(0, 1), [{ index: { status: 409 } }]).refused).toHaveLength(1);
  });

  it('refuses every item of an answer without an items list (a lying or broken server) instead of throwing', () => {
    const items = [0, 1].map((n) => ({ record: WireRecord.fromValue({ n }), index: 'i', id: String(n), lines: '' }));
    for (const answer of [undefined, {}, 'items'] as unknown[]) {
      const outcome = sortItems('index', items, answer as never);
      expect(outcome.refused).toHaveLength(2);
      expect(outcome.firstReason).toBe('no result for item 0 in the bulk answer');
    }
  });
});

describe('bulk answers that lie', () => {
  const items = [0, 1, 2].map((n) => ({ record: WireRecord.fromValue({ n }), index: 'i', id: String(n), lines: '' }));

  it('refuses every item of an answer with more items than were sent: it is not this request\'s answer', () => {
    const outcome = sortItems('index', items, [0, 1, 2, 3].map((n) => ({ index: { status: 201, _id: String(n) } })));
    expect(outcome.refused).toHaveLength(3);
    expect(outcome.firstReason).toBe('the bulk answer has 4 items for 3 sent');
  });

  it('refuses an item whose result names another document, and takes the others as written', () => {
    const outcome = sortItems('index', items, [{ index: { status: 201, _id: '0' } }, { index: { status: 201, _id: '2' } }, { index: { status: 201, _id: '2' } }]);
    expect(outcome.refused.map((i) => i.id)).toEqual(['1']);
    expect(outcome.firstReason).toBe("the bulk answer's item 1 names document 2, not 1");
  });

  it('refuses items whose status is not a number or whose result is not an object', () => {
    const outcome = sortItems('index', items, [{ index: { status: '201' } }, { index: null }, 'ok'] as never);
    expect(outcome.refused).toHaveLength(3);
    expect(outcome.retry).toHaveLength(0);
  });
});

describe('elasticsearch sink', () => {
  it('names documents by pipeline and position: writing a batch again overwrites it, and records sharing a position get ordinals', async () => {
    const s = await sink({});
    await s.write(batch(0, 100));
    await s.write(batch(50, 100));
    expect(fake!.count('orders')).toBe(100);
    expect(fake!.indices.get('orders')!.get('p:7:1')).toEqual({ n: 7 });
    const shared = [WireRecord.fromValue({ r: 'a' }, 'req-1'), WireRecord.fromValue({ r: 'b' }, 'req-1'), WireRecord.fromValue({ r: 'c' }, 'req-2')];
    await s.write(shared);
    const docs = fake!.indices.get('orders')!;
    expect([docs.get('p:"req-1":1'), docs.get('p:"req-1":2'), docs.get('p:"req-2":1')]).toEqual([{ r: 'a' }, { r: 'b' }, { r: 'c' }]);
  });

  it('takes the index and the id from templates, and auto ids when asked', async () => {
    const s = await sink({ index: 'orders-{value.region}', id: 'order-{value.n}' });
    await s.write(batch(0, 4).map((r, i) => WireRecord.fromValue({ ...(r.value as object), region: i % 2 === 0 ? 'eu' : 'us' }, i)));
    expect([...fake!.indices.get('orders-eu')!.keys()]).toEqual(['order-0', 'order-2']);
    const auto = await sink({ index: 'logs', id: 'auto' }, 'q');
    await auto.write(batch(0, 3));
    await auto.write(batch(0, 3));
    expect(fake!.count('logs')).toBe(6);
  });

  it('hands back the items refused for good as RecordsRefused, with the reason; the others are written', async () => {
    const s = await sink({});
    fake!.refuse = (doc) => ((doc as { n: number }).n % 10 === 3 ? { type: 'mapper_parsing_exception', reason: 'failed to parse field [n]' } : undefined);
    const error = await s.write(batch(0, 30)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordsRefused);
    const refused = error as RecordsRefused;
    expect(refused.records.map((r) => (r.value as { n: number }).n)).toEqual([3, 13, 23]);
    expect(refused.message).toContain('mapper_parsing_exception: failed to parse field [n]');
    expect(fake!.count('orders')).toBe(27);
  });

  it('sends 429 items again alone until they are written, and refuses them after retry_attempts', async () => {
    const s = await sink({});
    fake!.throttleItems = 3;
    await s.write(batch(0, 20));
    expect(fake!.count('orders')).toBe(20);
    // 20 items, then the 3 throttled ones again (each retry sends only what was throttled).
    expect(fake!.stats.items).toBe(23);
    const strict = await sink({ retry_attempts: 1, index: 'other' }, 'q');
    fake!.throttleItems = 1_000;
    const error = await strict.write(batch(0, 2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordsRefused);
    expect((error as RecordsRefused).records).toHaveLength(2);
    expect((error as RecordsRefused).message).toContain('429');
  });

  it('waits for a stopped server and writes once it is back', async () => {
    const s = await sink({});
    await fake!.stop();
    const writing = s.write(batch(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 400));
    await fake!.start();
    await writing;
    expect(fake!.count('orders')).toBe(10);
  });

  it('fails with UNAVAILABLE naming the server, never the password, once the reconnects are used up', async () => {
    fake = await startFakeElasticsearch();
    const port = new URL(fake.url).port;
    await fake.stop();
    const s = elasticsearchSinkDefinition.create({ url: `http://wire:s3cret@127.0.0.1:${port}`, index: 'x', reconnect_attempts: 1 }) as ElasticsearchSink;
    sinks.push(s);
    const error = await s.open({ pipeline: 'p', component: 'sink', dataDir: '/nonexistent', signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WireError);
    expect((error as WireError).code).toBe('UNAVAILABLE');
    expect((error as WireError).message).toContain(`127.0.0.1:${port}`);
    expect((error as WireError).message).not.toContain('s3cret');
  });

  it('refuses configs that cannot work: a fixed id, an unknown placeholder, a password without a user', () => {
    const check = (config: Record<string, unknown>) => elasticsearchSinkDefinition.check!(config).map((p) => p.path);
    expect(check({ index: 'i', id: 'same' })).toEqual(['id']);
    expect(check({ index: 'i-{nope}' })).toEqual(['index']);
    expect(check({ index: 'i', password: 'x' })).toEqual(['password']);
    expect(check({ index: 'i', id: '{value.id}' })).toEqual([]);
  });
});
