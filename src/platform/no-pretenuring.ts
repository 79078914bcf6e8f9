/**
 * Turns off V8's allocation-site pretenuring in this process. When the objects of one allocation site (a record
 * made per line) survive a few scavenges in a row — a slow spell, a stall — V8 starts allocating every later object
 * of that site straight in the old generation, and never learns that they now die young: an http ingest then
 * paid a mark-compact about every second, and ~25 % more CPU per record (docs/performance.md). A pipeline's
 * records are short-lived by design, so the young generation is where they belong. Safe at any time: the flag is
 * a heuristic of the collector that V8 reads whenever it decides, and changes no behaviour.
 */
export async function turnOffPretenuring(): Promise<void> {
  // Loaded here, not with the module: node:v8 costs ~5 ms to load, and only some runs need this.
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString('--no-allocation-site-pretenuring');
}
