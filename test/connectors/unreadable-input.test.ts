import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileSource } from '../../src/connectors/sources/file.js';
import { describe, expect, it } from 'vitest';
import { HttpSource, httpSourceDefinition } from '../../src/connectors/sources/http.js';
import { StdinSource } from '../../src/connectors/sources/stdin.js';
import { recordsOf } from '../../src/core/line-block.js';
import type { WireRecord } from '../../src/core/record.js';
import { openOptions } from './helpers.js';

// One rule for bytes that are not UTF-8: never decoded into U+FFFD and passed on. A line source makes the line an
// unreadable record (the engine dead-letters it with its bytes); the http source refuses the request whole.

const bad = Buffer.from('{"s":"caf\xe9"}', 'latin1');

describe('invalid UTF-8', () => {
  it('makes a stdin line an unreadable record keeping its bytes, on the block and record paths', async () => {
    for (const format of ['jsonl', 'lines'] as const) {
      for (const path of ['blocks', 'records'] as const) {
        const source = new StdinSource({ format }, Readable.from([Buffer.concat([Buffer.from('{"s":"ok"}\n'), bad, Buffer.from('\n')])]));
        await source.open(openOptions());
        const records: WireRecord[] = [];
        if (path === 'blocks') for await (const block of source.blocks()) records.push(...recordsOf(block));
        else for await (const batch of source.read(100)) records.push(...batch);
        expect(records.map((r) => r.unreadable?.message)).toEqual([undefined, 'invalid UTF-8 at byte 9 of the line']);
        expect(Buffer.from(records[1]!.origin as Uint8Array).equals(bad)).toBe(true);
      }
    }
  });

  it('gets an http request answered 400, none of its records taken', async () => {
    const src = httpSourceDefinition.create({ address: '127.0.0.1:0' }) as HttpSource;
    const controller = new AbortController();
    await src.open(openOptions(controller.signal));
    try {
      const { host, port } = src.address();
      const res = await fetch(`http://${host}:${port}/ingest`, { method: 'POST', body: bad, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe('the body is not valid UTF-8');
    } finally {
      controller.abort();
      await src.close();
    }
  });
});

describe('invalid UTF-8 in a file of format json', () => {
  it('fails the read like malformed JSON: the file is one document', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wire-utf8-'));
    try {
      const path = join(dir, 'in.json');
      await writeFile(path, Buffer.concat([Buffer.from('['), bad, Buffer.from(']')]));
      const source = new FileSource({ path, format: 'json', follow: false, poll_interval: 250, encoding: 'utf8', strict: false });
      await source.open(openOptions());
      const read = async () => {
        for await (const _batch of source.read(10)) void _batch;
      };
      await expect(read()).rejects.toMatchObject({ code: 'INVALID_INPUT', message: `file source: ${path} is not valid UTF-8` });
      await source.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('an http body of JSON lines', () => {
  it('is refused whole (400) when a line nests deeper than the limit, as a file line would be dead-lettered', async () => {
    const src = httpSourceDefinition.create({ address: '127.0.0.1:0' }) as HttpSource;
    const controller = new AbortController();
    await src.open(openOptions(controller.signal));
    try {
      const { host, port } = src.address();
      const body = `{"ok":1}\n${'['.repeat(1001)}${']'.repeat(1001)}\n`;
      const res = await fetch(`http://${host}:${port}/ingest`, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe('malformed JSON: nested deeper than 1000 levels on line 2');
    } finally {
      controller.abort();
      await src.close();
    }
  });
});

describe('invalid UTF-8 in a CSV file', () => {
  it('makes its row an unreadable record keeping the bad line, even a row spanning lines; the rows after it are read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wire-csv-'));
    try {
      const path = join(dir, 'in.csv');
      const badLine = Buffer.from('2,caf\xe9', 'latin1');
      const spanning = Buffer.from('"multi\xff', 'latin1');
      await writeFile(path, Buffer.concat([Buffer.from('n,s\n1,ok\n'), badLine, Buffer.from('\n3,"a\nb"\n4,'), spanning, Buffer.from('\nline"\n5,end\n')]));
      const source = new FileSource({ path, format: 'csv', follow: false, poll_interval: 250, encoding: 'utf8', strict: false });
      await source.open(openOptions());
      const records: WireRecord[] = [];
      for await (const batch of source.read(100)) records.push(...batch);
      await source.close();
      expect(records.map((r) => r.unreadable?.message ?? r.value)).toEqual([
        { n: '1', s: 'ok' },
        'invalid UTF-8 at byte 5 of the line',
        { n: '3', s: 'a\nb' },
        'invalid UTF-8 at byte 8 of the line',
        { n: '5', s: 'end' },
      ]);
      expect(Buffer.from(records[1]!.origin as Uint8Array).equals(badLine)).toBe(true);
      expect(Buffer.from(records[3]!.origin as Uint8Array).equals(Buffer.concat([Buffer.from('4,'), spanning]))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
