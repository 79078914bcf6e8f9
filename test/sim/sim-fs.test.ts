/**
 * The simulated disk keeps exactly what a power loss may keep: synced data and directory entries, a
 * prefix of what was not synced (the next write maybe torn), and nothing of a dead incarnation's I/O.
 */
import { describe, expect, it } from 'vitest';
import { EventQueue } from './clock.js';
import { Prng } from './prng.js';
import { SECTOR_BYTES, SimDisk } from './sim-fs.js';

/** Runs simulated time until `p` settles (an fsync completes only as the queue runs). */
async function durably<T>(queue: EventQueue, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true));
  await new Promise((r) => setImmediate(r));
  while (!done && queue.runNext(queue.now + 1000)) await new Promise((r) => setImmediate(r));
  return p;
}

async function settle(queue: EventQueue): Promise<void> {
  while (queue.runNext(queue.now + 1000)) await new Promise((r) => setImmediate(r));
}

function disk(seed = 1): { queue: EventQueue; disk: SimDisk } {
  const queue = new EventQueue();
  return { queue, disk: new SimDisk(queue, new Prng(seed)) };
}

describe('simulated disk', () => {
  it('keeps synced writes and synced directory entries across a power loss', async () => {
    const { queue, disk: d } = disk();
    const fs = d.view();
    await fs.mkdirp('/a');
    await durably(queue, fs.fsyncDir('/'));
    const f = await fs.open('/a/f', 'wx+');
    await f.write(Buffer.from('hello'), 0, 5, 0);
    await durably(queue, f.datasync());
    await durably(queue, fs.fsyncDir('/a'));
    d.powerLoss(1);
    expect((await d.view().readFile('/a/f')).toString()).toBe('hello');
  });

  it('loses a file whose directory entry was never synced, and a directory whose parent was not', async () => {
    let lostFile = 0;
    let lostDir = 0;
    for (let seed = 0; seed < 20; seed++) {
      const { queue, disk: d } = disk(seed);
      const fs = d.view();
      await fs.mkdirp('/a');
      const f = await fs.open('/a/f', 'wx+');
      await f.write(Buffer.from('x'), 0, 1, 0);
      await durably(queue, f.datasync());
      d.powerLoss(1);
      const after = d.view();
      if (!(await after.exists('/a'))) lostDir++;
      else if (!(await after.exists('/a/f'))) lostFile++;
    }
    expect(lostDir).toBeGreaterThan(0);
    expect(lostFile + lostDir).toBeGreaterThan(0);
  });

  it('keeps a prefix of unsynced writes and may tear the next one, at a sector boundary', async () => {
    const kept = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const { queue, disk: d } = disk(seed);
      const fs = d.view();
      const f = await fs.open('/f', 'wx+');
      await durably(queue, fs.fsyncDir('/'));
      await f.write(Buffer.alloc(2 * SECTOR_BYTES, 'a'), 0, 2 * SECTOR_BYTES, 0);
      await f.write(Buffer.alloc(2 * SECTOR_BYTES, 'b'), 0, 2 * SECTOR_BYTES, 2 * SECTOR_BYTES);
      d.powerLoss(0.5);
      const text = (await d.view().readFile('/f')).toString();
      // Never the second write without the first; a write is cut only between whole sectors.
      expect(text).toMatch(/^(a*|a{1024}b*)$/);
      expect(text.length % SECTOR_BYTES).toBe(0);
      kept.add(text.length / SECTOR_BYTES);
    }
    // Both lost; the first torn after one sector, or whole; then the second one torn, or whole.
    expect([...kept].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('never answers a dead incarnation: its fsync does not complete, its writes are refused silently', async () => {
    const { queue, disk: d } = disk();
    const fs = d.view();
    const f = await fs.open('/f', 'wx+');
    await f.write(Buffer.from('a'), 0, 1, 0);
    let synced = false;
    void f.datasync().then(() => (synced = true));
    d.powerLoss(0);
    await settle(queue);
    expect(synced).toBe(false);
    let wrote = false;
    void f.write(Buffer.from('b'), 0, 1, 0).then(() => (wrote = true));
    await settle(queue);
    expect(wrote).toBe(false);
  });

  it('flips a bit of durable data, visible to reads', async () => {
    const { queue, disk: d } = disk();
    const fs = d.view();
    const f = await fs.open('/f', 'wx+');
    await f.write(Buffer.alloc(64), 0, 64, 0);
    await durably(queue, f.datasync());
    await durably(queue, fs.fsyncDir('/'));
    expect(d.flipBit()).toMatch(/^\/+f byte \d+$/);
    const data = await fs.readFile('/f');
    expect(data.some((b) => b !== 0)).toBe(true);
    d.powerLoss(0);
    expect((await d.view().readFile('/f')).some((b) => b !== 0)).toBe(true);
  });
});
