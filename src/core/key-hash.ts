/**
 * The lane (of `lanes`) a record key belongs to: FNV-1a over UTF-16 code units, cheap, stable across runs and
 * processes, spreads short keys well. The engine's lanes and the http sink's connections both split by it.
 */
export function laneOfKey(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}
