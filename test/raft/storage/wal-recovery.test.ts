import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { HardState } from '../../../src/raft/core/types.js';
import { WalCorruptError } from '../../../src/raft/storage/wal-errors.js';
import { REC_BATCH_END, REC_ENTRY, REC_HARD_STATE, entryRecordBytes, writeEntryRecord } from '../../../src/raft/storage/wal-record.js';
import { WalStore, type WalStoreOptions } from '../../../src/raft/storage/wal-store.js';
import { crashImage, entry, flipByte, range, rawRecords, segmentFiles, text, walFixture } from './wal-files.js';

const isZeroBytes = (bytes: Buffer): boolean => bytes.every((b) => b === 0);

// Without preallocation a segment file ends where its records do, so offsets are easy to reason about.
const EXACT: WalStoreOptions = { preallocateBytes: 0 };

describe('WAL recovery', () => {
  const wal = walFixture(EXACT);
  const { reopen } = wal;
  const closeStore = wal.close;
  /** Writes entries one append (one synced batch) at a time, then closes (which seals the log). */
  const writeEach = async (lo: number, hi: number, term: number, options: WalStoreOptions = EXACT): Promise<void> => {
    const log = await reopen(options);
    for (let i = lo; i <= hi; i++) await log.append([entry(i, term)]);
    await closeStore();
  };
  /** Like writeEach, but the machine loses power after the last append: nothing written at close survives. */
  const writeEachThenPowerLoss = async (lo: number, hi: number, term: number, options: WalStoreOptions = EXACT): Promise<void> => {
    const log = await reopen(options);
    for (let i = lo; i <= hi; i++) await log.append([entry(i, term)]);
    const image = await crashImage(wal.dir);
    await closeStore();
    await image.restore();
  };
  const onlySegment = async (): Promise<string> => {
    const files = await segmentFiles(wal.dir);
    expect(files).toHaveLength(1);
    return files[0]!;
  };
  const entryRecords = async (file: string) => (await rawRecords(file)).filter((r) => r.type === REC_ENTRY);
  /** Opening refuses with a WalCorruptError naming the file and offset, and leaves every byte as it was. */
  const expectRefusal = async (file: string, offset: number, reason: RegExp): Promise<WalCorruptError> => {
    const before = await Promise.all((await segmentFiles(wal.dir)).map((f) => readFile(f)));
    const err: unknown = await WalStore.open(wal.dir, EXACT).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WalCorruptError);
    const corrupt = err as WalCorruptError;
    expect({ code: corrupt.code, file: corrupt.file, offset: corrupt.offset }).toEqual({ code: 'CORRUPT_STORAGE', file, offset });
    expect(corrupt.reason).toMatch(reason);
    expect(corrupt.message).toContain(file);
    expect(corrupt.message).toContain(`offset ${offset}`);
    expect(await Promise.all((await segmentFiles(wal.dir)).map((f) => readFile(f)))).toEqual(before);
    return corrupt;
  };

  it('cuts a torn last record, written after the last fsync, and never returns it', async () => {
    await writeEachThenPowerLoss(1, 10, 1);
    const file = await onlySegment();
    const last = (await entryRecords(file)).at(-1)!;
    await truncate(file, last.end - 3);
    const log = await reopen();
    expect(log.openReport).toEqual({ truncated: 1, truncatedBytes: last.end - 3 - last.offset });
    expect(log.lastIndex()).toBe(9);
    expect(log.entries(1, 10).map(text)).toEqual(range(1, 9, 1).map(text));
    const again = await reopen();
    expect(again.openReport.truncated).toBe(0);
    expect(again.lastIndex()).toBe(9);
  });

  it('recovers a prefix of the last write, never part of a record, whatever sectors of it a crash loses', async () => {
    const log = await reopen();
    await log.append(range(1, 4, 1));
    await log.saveHardState({ term: 1, vote: 'n1', commit: 2 });
    await closeStore();
    const again = await reopen();
    const file = await onlySegment();
    const before = (await readFile(file)).length;
    // Records of ~330 bytes: the write spans three sectors.
    const x = (i: number) => entry(i, 2, `x${i}${'.'.repeat(300)}`);
    await Promise.all([again.append([x(3), x(4), x(5)]), again.saveHardState({ term: 2, vote: 'n2', commit: 3 })]);
    const full = await readFile(file);
    await closeStore();
    await writeFile(file, full);
    const written = (await rawRecords(file)).filter((r) => r.offset >= before);
    expect(written.map((r) => r.type)).toEqual([REC_ENTRY, REC_ENTRY, REC_ENTRY, REC_HARD_STATE, REC_BATCH_END]);
    const batch = written.slice(0, -1);
    const hs1 = { term: 1, vote: 'n1', commit: 2 };
    // The state after the first k records of the last write (all four when only the record ending it is torn).
    const expected = [
      [['e1', 'e2', 'e3', 'e4'], hs1],
      [['e1', 'e2', text(x(3))], hs1],
      [['e1', 'e2', text(x(3)), text(x(4))], hs1],
      [['e1', 'e2', text(x(3)), text(x(4)), text(x(5))], hs1],
      [['e1', 'e2', text(x(3)), text(x(4)), text(x(5))], { term: 2, vote: 'n2', commit: 3 }],
    ];
    // What a power loss can leave of the write: a file cut short at any byte, or sectors (512 bytes, written
    // whole or not at all) lost — from one on, or just one — reading as the zeros that were there before.
    // `refused`: a sector lost out of order, with a record of the write after it intact: that is not a
    // prefix of the write, so recovery cannot tell it from corruption and refuses to start (the safe way).
    const tears: { what: string; lostFrom: number; bytes: Buffer; refused?: boolean }[] = [];
    // Short files: around every record boundary, and at every 11th byte between (a reopen per case is slow).
    const cuts = new Set<number>();
    for (let cut = before; cut < full.length; cut += 11) cuts.add(cut);
    for (const r of batch) for (let d = -2; d <= 2; d++) cuts.add(r.end + d);
    for (const cut of [...cuts].filter((c) => c >= before && c < full.length).sort((a, b) => a - b)) {
      tears.push({ what: `short at ${cut}`, lostFrom: cut, bytes: full.subarray(0, cut) });
    }
    for (let sector = Math.floor(before / 512) * 512; sector < full.length; sector += 512) {
      const from = Math.max(sector, before);
      const to = Math.min(sector + 512, full.length);
      tears.push({ what: `zeros from ${from}`, lostFrom: from, bytes: Buffer.concat([full.subarray(0, from), Buffer.alloc(full.length - from)]) });
      const refused = !isZeroBytes(full.subarray(from, to)) && written.some((r) => r.offset >= to);
      tears.push({ what: `zeros in ${from}..${to}`, lostFrom: from, bytes: Buffer.concat([full.subarray(0, from), Buffer.alloc(to - from), full.subarray(to)]), refused });
    }
    expect(tears.length).toBeGreaterThan(100);
    expect(tears.filter((t) => t.refused)).not.toHaveLength(0);
    for (const { what, lostFrom, bytes, refused } of tears) {
      await writeFile(file, bytes);
      if (refused) {
        await expect(WalStore.open(wal.dir, EXACT), what).rejects.toBeInstanceOf(WalCorruptError);
        continue;
      }
      const complete = batch.filter((r) => r.end <= lostFrom).length;
      const boundary = complete === 0 ? before : batch[complete - 1]!.end;
      const recovered = await reopen();
      const state = [recovered.entries(1, recovered.lastIndex() + 1).map(text), recovered.loadHardState()];
      expect({ what, state }).toEqual({ what, state: expected[complete] });
      const lost = !isZeroBytes(bytes.subarray(boundary));
      expect({ what, reported: recovered.openReport.truncated > 0 }).toEqual({ what, reported: lost });
      await closeStore();
    }
    await writeFile(file, full);
    const whole = await reopen();
    expect([whole.lastIndex(), whole.entries(3, 6).map(text), whole.loadHardState()]).toEqual([5, [text(x(3)), text(x(4)), text(x(5))], { term: 2, vote: 'n2', commit: 3 }]);
  });

  it('refuses to start when the last entry of the last fsynced write has a bit flip: the record ending the write follows it', async () => {
    await writeEachThenPowerLoss(1, 10, 1);
    const file = await onlySegment();
    const last = (await entryRecords(file)).at(-1)!;
    await flipByte(file, last.offset + 15, 0x02);
    const err = await expectRefusal(file, last.offset, /checksum/);
    expect(err.proof).toContain(`follows at offset ${last.end}`);
  });

  it('refuses to start when the length of the last entry of the last fsynced write is flipped to run past the end', async () => {
    await writeEachThenPowerLoss(1, 10, 1);
    const file = await onlySegment();
    const last = (await entryRecords(file)).at(-1)!;
    // Bit 16 of the length: it now claims 64 KiB more than the file holds, hiding where the next record starts.
    await flipByte(file, last.offset + 6, 0x01);
    const err = await expectRefusal(file, last.offset, /length .* past the end/);
    expect(err.proof).toContain(`follows at offset ${last.end}`);
  });

  for (const [layout, options] of [
    ['the file ends with it', EXACT],
    ['zeros written ahead follow it', { preallocateBytes: 4096 }],
  ] as const) {
    it(`refuses to start when any one bit of the last record of the log (the one ending the last fsynced write) flips: ${layout}`, async () => {
      await writeEachThenPowerLoss(1, 10, 1, options);
      const file = await onlySegment();
      const intact = await readFile(file);
      const last = (await rawRecords(file)).at(-1)!;
      expect(last.type).toBe(REC_BATCH_END);
      expect(isZeroBytes(intact.subarray(last.end))).toBe(true);
      expect(intact.length > last.end).toBe(options.preallocateBytes !== 0);
      for (let bit = 0; bit < (last.end - last.offset) * 8; bit++) {
        const bytes = Buffer.from(intact);
        bytes[last.offset + (bit >> 3)] = bytes[last.offset + (bit >> 3)]! ^ (1 << (bit & 7));
        await writeFile(file, bytes);
        const err = await expectRefusal(file, last.offset, /./);
        expect(err.proof).toMatch(/one bit flipped/);
      }
      await writeFile(file, intact);
      expect((await reopen()).lastIndex()).toBe(10);
    });
  }

  it('cuts a bit flipped in the zeros written ahead of the log: they held nothing', async () => {
    await writeEachThenPowerLoss(1, 10, 1, { preallocateBytes: 4096 });
    const file = await onlySegment();
    const last = (await rawRecords(file)).at(-1)!;
    const size = (await readFile(file)).length;
    await flipByte(file, size - 100, 0x08);
    const log = await reopen();
    expect(log.lastIndex()).toBe(10);
    expect(log.openReport).toEqual({ truncated: 1, truncatedBytes: size - last.end });
  });

  it('refuses to start when a bit flips in a fsynced record in the middle of the log', async () => {
    await writeEachThenPowerLoss(1, 10, 1);
    const file = await onlySegment();
    const eighth = (await entryRecords(file))[7]!;
    await flipByte(file, eighth.end - 1, 0x04);
    const err = await expectRefusal(file, eighth.offset, /checksum/);
    // The next append's first record was written after an fsync: that is the proof.
    expect(err.proof).toContain(`offset ${eighth.end}`);
  });

  it('refuses to start when a corrupt length field runs past the end and hides the fsynced records after it', async () => {
    await writeEachThenPowerLoss(1, 10, 1);
    const file = await onlySegment();
    const fifth = (await entryRecords(file))[4]!;
    const bytes = await readFile(file);
    bytes.writeUInt32LE(bytes.length, fifth.offset + 4);
    await writeFile(file, bytes);
    await expectRefusal(file, fifth.offset, /length .* past the end/);
  });

  it('refuses to start when a corrupt length field points into the middle of the records after it', async () => {
    await writeEachThenPowerLoss(1, 10, 1);
    const file = await onlySegment();
    const entries = await entryRecords(file);
    const fifth = entries[4]!;
    const bytes = await readFile(file);
    // The length now ends the record 3 bytes into the eighth: framing from there finds only garbage.
    bytes.writeUInt32LE(entries[7]!.offset + 3 - fifth.offset - 9, fifth.offset + 4);
    await writeFile(file, bytes);
    await expectRefusal(file, fifth.offset, /checksum/);
  });

  it('refuses to start when the last entry was fsynced and sealed by a clean close, then corrupted', async () => {
    await writeEach(1, 10, 1);
    const file = await onlySegment();
    const last = (await entryRecords(file)).at(-1)!;
    await flipByte(file, last.end - 1, 0x01);
    await expectRefusal(file, last.offset, /checksum/);
  });

  it('refuses to start when the last entry before a power loss was sealed by a later open, then corrupted', async () => {
    await writeEachThenPowerLoss(1, 10, 1);
    await reopen();
    const image = await crashImage(wal.dir);
    await closeStore();
    await image.restore();
    const file = await onlySegment();
    const last = (await entryRecords(file)).at(-1)!;
    await flipByte(file, last.offset + 12, 0x10);
    await expectRefusal(file, last.offset, /checksum/);
  });

  it('refuses to open when a hard state followed by fsynced records fails its checksum', async () => {
    const log = await reopen();
    await log.saveHardState({ term: 7, vote: 'n1', commit: 0 });
    await log.append([entry(1, 7)]);
    await closeStore();
    const file = await onlySegment();
    const saved = (await rawRecords(file)).find((r) => r.type === REC_HARD_STATE && r.afterSync)!;
    await flipByte(file, saved.end - 1, 0x01);
    await expectRefusal(file, saved.offset, /checksum/);
  });

  it('refuses to cut a corrupt entry when a durable hard state after it holds a newer vote', async () => {
    await writeEach(1, 3, 1);
    const log = await reopen();
    await log.saveHardState({ term: 2, vote: 'n3', commit: 0 });
    await log.append([entry(4, 2)]);
    await closeStore();
    const file = await onlySegment();
    const second = (await entryRecords(file))[1]!;
    await flipByte(file, second.end - 1);
    await expectRefusal(file, second.offset, /checksum/);
  });

  it('cuts a torn hard state at the tail and recovers the one before it', async () => {
    const log = await reopen();
    await log.saveHardState({ term: 3, vote: 'n1', commit: 0 });
    await log.saveHardState({ term: 4, vote: 'n2', commit: 0 });
    const image = await crashImage(wal.dir);
    await closeStore();
    await image.restore();
    const file = await onlySegment();
    const last = (await rawRecords(file)).filter((r) => r.type === REC_HARD_STATE).at(-1)!;
    await truncate(file, last.end - 1);
    const recovered = await reopen();
    expect(recovered.loadHardState()).toEqual<HardState>({ term: 3, vote: 'n1', commit: 0 });
    expect(recovered.openReport.truncated).toBe(1);
  });

  it('refuses a well-formed record that does not fit the log (a gap), even with nothing after it', async () => {
    await writeEach(1, 3, 1);
    const file = await onlySegment();
    const size = (await readFile(file)).length;
    const extra = Buffer.alloc(entryRecordBytes(entry(5, 1)) + entryRecordBytes(entry(6, 1)));
    writeEntryRecord(extra, writeEntryRecord(extra, 0, entry(5, 1)), entry(6, 1));
    await writeFile(file, Buffer.concat([await readFile(file), extra]));
    const err = await expectRefusal(file, size, /out of place/);
    expect(err.proof).toMatch(/passed its checksum/);
  });

  it('deletes a segment whose header was torn while it was being started', async () => {
    const small = { ...EXACT, segmentBytes: 100 };
    await writeEach(1, 12, 1, small);
    const files = await segmentFiles(wal.dir);
    expect(files.length).toBeGreaterThan(2);
    const newest = files.at(-1)!;
    const lastInPrevious = await (async () => {
      await rm(newest);
      const log = await reopen(small);
      const last = log.lastIndex();
      await closeStore();
      return last;
    })();
    // Put back a start of the newest segment cut inside its BASE record.
    await writeFile(newest, Buffer.from([1, 2, 3, 4, 5, 6, 7]));
    const log = await reopen(small);
    expect(log.lastIndex()).toBe(lastInPrevious);
    expect(await segmentFiles(wal.dir)).toEqual(files.slice(0, -1));
    expect(log.openReport.truncated).toBe(1);
  });

  for (const [what, bytes] of [
    ['empty', Buffer.alloc(0)],
    ['zero-filled', Buffer.alloc(4096)],
  ] as const) {
    it(`deletes a newest segment left ${what} by a crash while it was being started, and keeps writing after it`, async () => {
      const small = { ...EXACT, segmentBytes: 100 };
      await writeEach(1, 12, 1, small);
      const files = await segmentFiles(wal.dir);
      const next = files.at(-1)!.replace(/[0-9a-f]{16}\.wal$/, (name) => `${(Number.parseInt(name.slice(0, 16), 16) + 1).toString(16).padStart(16, '0')}.wal`);
      await writeFile(next, bytes);
      const log = await reopen(small);
      expect(await segmentFiles(wal.dir)).toEqual(files);
      expect(log.openReport).toEqual({ truncated: 0, truncatedBytes: bytes.length });
      await log.append([entry(13, 1)]);
      await log.append([entry(14, 1)]);
      const again = await reopen(small);
      expect(again.entries(1, 15).map(text)).toEqual(range(1, 14, 1).map(text));
    });
  }

  it('refuses to open, deleting nothing, when the oldest segment left after a reset has no header', async () => {
    const small = { ...EXACT, segmentBytes: 100 };
    const log = await reopen(small);
    for (let i = 1; i <= 12; i++) await log.append([entry(i, 1)]);
    await log.reset(500, 4);
    await closeStore();
    const [only] = await segmentFiles(wal.dir);
    expect(only!.endsWith('0000000000000001.wal')).toBe(false);
    await writeFile(only!, Buffer.alloc(4096));
    await expect(WalStore.open(wal.dir, small)).rejects.toMatchObject({ code: 'CORRUPT_STORAGE' });
    expect(await segmentFiles(wal.dir)).toEqual([only]);
  });

  it('refuses to open when a segment between others is missing', async () => {
    await writeEach(1, 12, 1, { ...EXACT, segmentBytes: 100 });
    const files = await segmentFiles(wal.dir);
    expect(files.length).toBeGreaterThan(2);
    await rm(files[1]!);
    await expect(WalStore.open(wal.dir, EXACT)).rejects.toMatchObject({ code: 'CORRUPT_STORAGE' });
  });

  it('refuses to start when a record of an older segment is corrupt: a later segment proves it fsynced', async () => {
    await writeEach(1, 12, 1, { ...EXACT, segmentBytes: 100 });
    const files = await segmentFiles(wal.dir);
    expect(files.length).toBeGreaterThan(1);
    const victim = (await entryRecords(files[0]!)).at(-1)!;
    await flipByte(files[0]!, victim.end - 1);
    const err = await expectRefusal(files[0]!, victim.offset, /checksum/);
    expect(err.proof).toMatch(/segment 2 was started after it/);
  });
});
