// Where a node's main thread spent a time window, from the `.cpuprofile` that `node --cpu-prof` writes at exit: each
// sample goes to the innermost frame of Wire's own code (dist/<folder>/…) on its stack, so what Wire calls (lmdb,
// msgpackr, prom-client, JSON, Node's internals) counts for the Wire code that called it, and so does what the
// shared folders (core/, observability/) do. Needs the unbundled build (dist/cli/main.js): the bundle's frames all
// name one file.
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface MainThreadShare {
  /** Busy time in the window (every sample but idle), ms. */
  readonly busyMs: number;
  /** Busy ms by what it went to: a dist folder (`raft`, `engine`, …; `cluster/<sub>` for the cluster's), `gc`, `node` (no Wire frame). */
  readonly byPart: Readonly<Record<string, number>>;
  /** Busy ms by Wire file, the largest first. */
  readonly byFile: ReadonlyArray<readonly [string, number]>;
}

/** The monotonic clock the profiles' timestamps use (µs), to mark a window in them. */
export const profileClockUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Folders whose code every part calls: their time counts for the caller. */
const SHARED = new Set(['core', 'observability']);

const partOf = (file: string): string => {
  const [folder, sub] = file.split('/');
  return folder === 'cluster' && sub !== undefined && !sub.endsWith('.js') ? `cluster/${sub}` : folder!;
};

/** The main thread's busy time within [fromUs, toUs] of the profile in `path`, by part of Wire. */
export async function mainThreadShare(path: string, fromUs: number, toUs: number): Promise<MainThreadShare> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // Each node's owner (the Wire file or a special part), found once.
  const owner = new Map<number, string | null>();
  const ownerOf = (id: number): string | null => {
    const known = owner.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)!.callFrame;
    const at = frame.url.lastIndexOf('/dist/');
    const file = at >= 0 && !frame.url.includes('/node_modules/') ? frame.url.slice(at + 6) : undefined;
    const up = parent.get(id);
    let found: string | null;
    if (frame.functionName === '(idle)') found = null;
    else if (frame.functionName === '(garbage collector)') found = 'gc';
    else if (file !== undefined && !SHARED.has(file.split('/')[0]!)) found = file;
    // A shared folder's frame with no owner above it is its own.
    else found = (up === undefined ? undefined : ownerOf(up)) ?? file ?? 'node';
    if (found === 'node' && file !== undefined) found = file;
    owner.set(id, found);
    return found;
  };
  const byPart = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busyUs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    // A sample stands for the time since the one before it.
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const file = ownerOf(profile.samples[i]!);
    if (file === null) continue;
    busyUs += us;
    const part = file === 'gc' || file === 'node' ? file : partOf(file);
    byPart.set(part, (byPart.get(part) ?? 0) + us / 1000);
    if (part !== file) byFile.set(file, (byFile.get(file) ?? 0) + us / 1000);
  }
  return { busyMs: busyUs / 1000, byPart: Object.fromEntries(byPart), byFile: [...byFile].sort((a, b) => b[1] - a[1]) };
}
