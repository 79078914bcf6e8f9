// Pure text formatting for progress lines and summaries: numbers, rates, durations, bars.

/** 1234567 → "1,234,567". By hand: Intl.NumberFormat costs ~20 ms of ICU loading at every start. */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Records per second, short: "950/s", "12.3k/s", "1.25M/s". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond < 0) return '0/s';
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${Math.round(perSecond)}/s`;
}

/** A clock for live display: "0:07", "12:34", "1:02:03". */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Seconds with millisecond precision, for summaries: "0.412 s". */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

/** A fixed-width bar: "[#####.....]" for 0.5 at width 10. Fractions are clamped to [0, 1]. */
export function renderBar(fraction: number, width: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Milliseconds left at the average pace so far; undefined until there is a pace to go by. */
export function estimateRemainingMs(elapsedMs: number, fraction: number): number | undefined {
  if (!(fraction > 0) || elapsedMs <= 0) return undefined;
  if (fraction >= 1) return 0;
  return (elapsedMs * (1 - fraction)) / fraction;
}

/** Records per second over a span; 0 for an empty span. */
export function ratePerSecond(records: number, ms: number): number {
  return ms > 0 ? (records * 1000) / ms : 0;
}
