// A protocol-level fake of MongoDB for the connectors' tests: no MongoDB server can be installed on these machines
// (mongodb-memory-server downloads its binary at run time). It speaks the wire protocol on 127.0.0.1 to the
// official driver (7.x, `directConnection=true`): the OP_QUERY handshake and OP_MSG commands `hello`, `ping`,
// `insert`, `update` (replacement or `$set`, upsert, by `_id`), `delete` (by `_id`), `find` (all, or `_id > x`,
// sorted by `_id`), `getMore`, `killCursors`, and `aggregate` with one `$changeStream` stage (`resumeAfter`,
// `startAfter`, `fullDocument: updateLookup`), whose getMore waits for events up to `maxTimeMS`. Every write is a
// change event with a resume token of its own. Faults: stopped and started again on the same port, data kept; a
// reply rewritten before it is sent (`lie`), as a broken or lying server would answer.
// It does not model transactions, indexes, authentication or any other query operator.
import { createServer, type Server, type Socket } from 'node:net';
import { BSON, Long, type Document } from 'bson';

export interface ChangeEvent {
  readonly seq: number;
  readonly event: Document;
}

export interface FakeMongo {
  readonly url: string;
  /** "db.collection" → _id (as EJSON text) → document. */
  readonly collections: Map<string, Map<string, Document>>;
  readonly events: ChangeEvent[];
  readonly stats: { commands: number; writes: number };
  /** Rewrites the reply to each OP_MSG command (named by its first field) before it is sent; undefined: the truth. */
  lie: ((command: string, reply: Document) => Document) | undefined;
  documents(ns: string): Document[];
  /** How many change streams are open now (cursors opened by `aggregate` with `$changeStream`). */
  changeStreams(): number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

interface Cursor {
  readonly ns: string;
  /** Documents left to return (find), or undefined for a change stream. */
  readonly docs?: Document[];
  /** Change stream: the last event's sequence number returned, and the pipeline's options. */
  after?: number;
  readonly fullDocument?: string;
}

const keyOf = (id: unknown): string => BSON.EJSON.stringify({ id }, { relaxed: false });
const tokenOf = (seq: number): Document => ({ _data: seq.toString(16).padStart(16, '0') });
const seqOf = (token: unknown): number => Number.parseInt(String((token as { _data?: unknown } | undefined)?._data ?? '0'), 16);

export async function startFakeMongo(): Promise<FakeMongo> {
  const collections = new Map<string, Map<string, Document>>();
  const events: ChangeEvent[] = [];
  const stats = { commands: 0, writes: 0 };
  const cursors = new Map<string, Cursor>();
  const waiting = new Set<() => void>();
  let nextCursor = 1;
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let port = 0;

  /** Each collection's `_id`s in order, kept until an insert or a delete: like a server's `_id` index, a find after an `_id` costs its batch, not a sort of the collection. */
  const idIndex = new Map<string, unknown[]>();
  const idsInOrder = (ns: string): unknown[] => {
    let ids = idIndex.get(ns);
    if (ids === undefined) idIndex.set(ns, (ids = [...collection(ns).values()].map((d) => d._id as unknown).sort(compareIds)));
    return ids;
  };

  const collection = (ns: string): Map<string, Document> => {
    let docs = collections.get(ns);
    if (docs === undefined) collections.set(ns, (docs = new Map()));
    return docs;
  };

  function record(ns: string, operationType: string, id: unknown, fullDocument: Document | undefined, extra: Document = {}): void {
    const seq = events.length + 1;
    const [db, coll] = splitNs(ns);
    events.push({ seq, event: { _id: tokenOf(seq), operationType, clusterTime: new Date(), ns: { db, coll }, documentKey: { _id: id }, ...extra, ...(fullDocument === undefined ? {} : { fullDocument }) } });
    for (const wake of waiting) wake();
  }

  function write(ns: string, id: unknown, next: Document | undefined, operationType: string, extra: Document = {}): void {
    stats.writes++;
    const docs = collection(ns);
    if (next === undefined || !docs.has(keyOf(id))) idIndex.delete(ns);
    if (next === undefined) docs.delete(keyOf(id));
    else docs.set(keyOf(id), next);
    record(ns, operationType, id, next, extra);
  }

  async function command(body: Document, sequences: Map<string, Document[]>): Promise<Document> {
    stats.commands++;
    const name = Object.keys(body)[0]!;
    const db = String(body.$db ?? 'admin');
    const ns = `${db}.${String(body[name])}`;
    switch (name) {
      case 'hello':
      case 'isMaster':
      case 'ismaster':
        return {
          helloOk: true, ismaster: true, isWritablePrimary: true, maxBsonObjectSize: 16 * 1024 * 1024, maxMessageSizeBytes: 48_000_000,
          maxWriteBatchSize: 100_000, localTime: new Date(), logicalSessionTimeoutMinutes: 30, connectionId: 1, minWireVersion: 0, maxWireVersion: 21, readOnly: false, ok: 1,
        };
      case 'ping':
      case 'endSessions':
        return { ok: 1 };
      case 'buildInfo':
      case 'buildinfo':
        return { version: '7.0.0-fake', versionArray: [7, 0, 0, 0], ok: 1 };
      case 'insert': {
        const docs = body.documents ?? sequences.get('documents') ?? [];
        // As the server does: a duplicate _id is a write error at its index; an unordered insert goes on past it.
        const writeErrors: Document[] = [];
        let n = 0;
        for (const [index, doc] of (docs as Document[]).entries()) {
          if (collection(ns).has(keyOf(doc._id))) {
            writeErrors.push({ index, code: 11000, errmsg: 'E11000 duplicate key error' });
            if (body.ordered !== false) break;
            continue;
          }
          write(ns, doc._id, doc, 'insert');
          n++;
        }
        return { n, ...(writeErrors.length > 0 ? { writeErrors } : {}), ok: 1 };
      }
      case 'update': {
        const updates = (body.updates ?? sequences.get('updates') ?? []) as Document[];
        let n = 0;
        let nModified = 0;
        const upserted: Document[] = [];
        updates.forEach((u, index) => {
          const id = (u.q as Document)._id;
          const existing = collection(ns).get(keyOf(id));
          if (existing === undefined && u.upsert !== true) return;
          const change = u.u as Document;
          const set = change.$set as Document | undefined;
          const next = set !== undefined ? { ...(existing ?? { _id: id }), ...set } : { ...change, _id: id };
          write(ns, id, next, existing === undefined ? 'insert' : set !== undefined ? 'update' : 'replace', set !== undefined && existing !== undefined ? { updateDescription: { updatedFields: set, removedFields: [] } } : {});
          n++;
          if (existing === undefined) upserted.push({ index, _id: id });
          else nModified++;
        });
        return { n, nModified, ...(upserted.length > 0 ? { upserted } : {}), ok: 1 };
      }
      case 'delete': {
        const deletes = (body.deletes ?? sequences.get('deletes') ?? []) as Document[];
        let n = 0;
        for (const d of deletes) {
          const id = (d.q as Document)._id;
          if (!collection(ns).has(keyOf(id))) continue;
          write(ns, id, undefined, 'delete');
          n++;
        }
        return { n, ok: 1 };
      }
      case 'find': {
        const filter = (body.filter ?? {}) as Document;
        const gt = (filter._id as Document | undefined)?.$gt;
        const ids = idsInOrder(ns);
        let start = 0;
        if (gt !== undefined) {
          // The first `_id` past `gt`, by bisection.
          let end = ids.length;
          while (start < end) {
            const middle = (start + end) >>> 1;
            if (compareIds(ids[middle], gt) > 0) end = middle;
            else start = middle + 1;
          }
        }
        const limit = typeof body.limit === 'number' && body.limit > 0 ? body.limit : ids.length;
        const docs = ids.slice(start, start + limit).map((id) => collection(ns).get(keyOf(id))!);
        return openCursor(ns, docs, Number(body.batchSize ?? 101));
      }
      case 'aggregate': {
        const stage = ((body.pipeline as Document[])[0] ?? {}).$changeStream as Document | undefined;
        if (stage === undefined) return { ok: 0, errmsg: 'the fake answers only $changeStream aggregations', code: 2 };
        const token = stage.resumeAfter ?? stage.startAfter;
        const after = token === undefined ? events.length : seqOf(token);
        const id = nextCursor++;
        cursors.set(String(id), { ns, after, fullDocument: String(stage.fullDocument ?? 'default') });
        return { cursor: { id: Long.fromNumber(id), ns, firstBatch: [], postBatchResumeToken: tokenOf(after) }, ok: 1 };
      }
      case 'getMore': {
        const key = String(body.getMore);
        const cursor = cursors.get(key);
        const cns = `${db}.${String(body.collection)}`;
        if (cursor === undefined) return { ok: 0, errmsg: `cursor id ${key} not found`, code: 43, codeName: 'CursorNotFound' };
        const batchSize = Number(body.batchSize ?? 101);
        if (cursor.docs !== undefined) {
          const nextBatch = cursor.docs.splice(0, batchSize);
          if (cursor.docs.length === 0) cursors.delete(key);
          return { cursor: { id: Long.fromNumber(cursor.docs.length === 0 ? 0 : Number(key)), ns: cns, nextBatch }, ok: 1 };
        }
        const nextBatch = await changes(cursor, batchSize, Number(body.maxTimeMS ?? 1000));
        return { cursor: { id: Long.fromNumber(Number(key)), ns: cns, nextBatch, postBatchResumeToken: tokenOf(cursor.after!) }, ok: 1 };
      }
      case 'killCursors': {
        const ids = (body.cursors as unknown[]).map(String);
        for (const id of ids) cursors.delete(id);
        return { cursorsKilled: body.cursors, ok: 1 };
      }
      default:
        return { ok: 0, errmsg: `no such command: '${name}' (the fake answers only what the connectors use)`, code: 59, codeName: 'CommandNotFound' };
    }
  }

  function openCursor(ns: string, docs: Document[], batchSize: number): Document {
    const firstBatch = docs.splice(0, batchSize);
    if (docs.length === 0) return { cursor: { id: Long.fromNumber(0), ns, firstBatch }, ok: 1 };
    const id = nextCursor++;
    cursors.set(String(id), { ns, docs });
    return { cursor: { id: Long.fromNumber(id), ns, firstBatch }, ok: 1 };
  }

  /** Events of the cursor's collection after its position, waiting up to `maxTimeMS` for one when there are none. */
  async function changes(cursor: Cursor, batchSize: number, maxTimeMS: number): Promise<Document[]> {
    const deadline = Date.now() + maxTimeMS;
    for (;;) {
      const batch: Document[] = [];
      for (let i = cursor.after!; i < events.length && batch.length < batchSize; i++) {
        const { event } = events[i]!;
        cursor.after = i + 1;
        const ens = event.ns as { db: string; coll: string };
        if (`${ens.db}.${ens.coll}` !== cursor.ns) continue;
        const full = event.operationType === 'update' && cursor.fullDocument !== 'updateLookup' ? { ...event, fullDocument: undefined } : event;
        batch.push(Object.fromEntries(Object.entries(full).filter(([, v]) => v !== undefined)));
      }
      const left = deadline - Date.now();
      if (batch.length > 0 || left <= 0) return batch;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          waiting.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        waiting.add(wake);
      });
    }
  }

  function serve(socket: Socket): void {
    let buffer = Buffer.alloc(0);
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4 && buffer.length >= buffer.readInt32LE(0)) {
        const length = buffer.readInt32LE(0);
        const message = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        // Answers go back in order: a getMore waiting for events holds the ones after it on this connection.
        chain = chain.then(() => answer(socket, message)).catch(() => {
          socket.destroy();
        });
      }
    });
    socket.on('error', () => undefined);
  }

  async function answer(socket: Socket, message: Buffer): Promise<void> {
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    if (opCode === OP_QUERY) {
      let at = 20;
      while (message[at] !== 0) at++;
      const query = BSON.deserialize(message.subarray(at + 9), { allowObjectSmallerThanBufferSize: true });
      const reply = await command({ ...query, $db: 'admin' }, new Map());
      const doc = BSON.serialize(reply);
      const header = Buffer.alloc(36);
      header.writeInt32LE(36 + doc.length, 0);
      header.writeInt32LE(requestId, 8);
      header.writeInt32LE(OP_REPLY, 12);
      header.writeInt32LE(1, 32);
      if (!socket.destroyed) socket.write(Buffer.concat([header, doc]));
      return;
    }
    if (opCode !== OP_MSG) throw new Error(`op code ${opCode}`);
    const flags = message.readUInt32LE(16);
    const end = flags & 1 ? message.length - 4 : message.length;
    let at = 20;
    let body: Document = {};
    const sequences = new Map<string, Document[]>();
    while (at < end) {
      const kind = message[at++];
      if (kind === 0) {
        const size = message.readInt32LE(at);
        body = BSON.deserialize(message.subarray(at, at + size));
        at += size;
      } else {
        const size = message.readInt32LE(at);
        const stop = at + size;
        let name = at + 4;
        while (message[name] !== 0) name++;
        const identifier = message.toString('utf8', at + 4, name);
        const docs: Document[] = [];
        for (let d = name + 1; d < stop; d += message.readInt32LE(d)) docs.push(BSON.deserialize(message.subarray(d, d + message.readInt32LE(d))));
        sequences.set(identifier, docs);
        at = stop;
      }
    }
    const honest = await command(body, sequences);
    const reply = BSON.serialize(fake.lie?.(Object.keys(body)[0]!, honest) ?? honest);
    const out = Buffer.alloc(21);
    out.writeInt32LE(21 + reply.length, 0);
    out.writeInt32LE(requestId, 8);
    out.writeInt32LE(OP_MSG, 12);
    if (!socket.destroyed) socket.write(Buffer.concat([out, reply]));
  }

  const fake: FakeMongo = {
    url: '',
    collections,
    events,
    stats,
    lie: undefined,
    documents: (ns) => [...(collections.get(ns)?.values() ?? [])],
    changeStreams: () => [...cursors.values()].filter((c) => c.docs === undefined).length,
    stop: async () => {
      const closing = server;
      server = undefined;
      if (closing === undefined) return;
      for (const socket of sockets) socket.destroy();
      cursors.clear();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    start: async () => {
      const next = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        serve(socket);
      });
      await new Promise<void>((resolve, reject) => {
        next.once('error', reject);
        next.listen(port, '127.0.0.1', () => resolve());
      });
      server = next;
      const address = next.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      port = address.port;
      (fake as { url: string }).url = `mongodb://127.0.0.1:${port}/?directConnection=true`;
    },
    close: () => fake.stop(),
  };
  await fake.start();
  return fake;
}

function splitNs(ns: string): [string, string] {
  const dot = ns.indexOf('.');
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}

/** Orders `_id`s as MongoDB does for the types the tests use: numbers before strings before others, each by value. */
function compareIds(a: unknown, b: unknown): number {
  const rank = (v: unknown): number => (typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a instanceof Object ? BSON.EJSON.stringify(a as Document) : a);
  const y = String(b instanceof Object ? BSON.EJSON.stringify(b as Document) : b);
  return x < y ? -1 : x > y ? 1 : 0;
}
