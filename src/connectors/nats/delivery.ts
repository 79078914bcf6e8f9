/**
 * The delivery of a JetStream message as its ack subject tells it, read in place. The client's `msg.info` splits the
 * subject into strings and builds an object for every message; the source needs four numbers of each, so this reads
 * them from the subject's bytes into one reused object (no allocation per message, no decoding).
 *
 * Two forms (NATS ADR-15): `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` (9 tokens), and
 * `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>[.<more>]` (11 or more).
 */
export class DeliveryInfo {
  /** Times the server delivered the message: more than 1 for a redelivery. */
  deliveryCount = 0;
  streamSequence = 0;
  /** The consumer's count of deliveries: one more for each message it sends, redeliveries included. */
  deliverySequence = 0;
  /** Messages left on the consumer after this one. */
  pending = 0;

  /** Reads `subject` (its UTF-8) into the fields; false (the fields unchanged) when it is not a JetStream ack subject. */
  read(subject: Uint8Array): boolean {
    const count = scanTokens(subject);
    // The index of the <delivered> token.
    const first = count === 9 ? 4 : count >= 11 ? 6 : -1;
    if (first < 0) return false;
    const delivered = tokens[first]!;
    const sseq = tokens[first + 1]!;
    const dseq = tokens[first + 2]!;
    const pending = tokens[first + 4]!;
    // -1 (not a number) and values past 2^53 (a lying server's: a number cannot hold them exactly) are refused; the
    // timestamp, which the source does not use, may be larger.
    if (!countable(delivered) || !countable(sseq) || !countable(dseq) || !countable(pending)) return false;
    this.deliveryCount = delivered;
    this.streamSequence = sseq;
    this.deliverySequence = dseq;
    this.pending = pending;
    return true;
  }
}

const countable = (value: number): boolean => value >= 0 && value <= Number.MAX_SAFE_INTEGER;

const PREFIX = new TextEncoder().encode('$JS.ACK.');
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** The number of each token of the last subject scanned (-1: not a number), from token 2 (after `$JS.ACK.`) to 10. */
const tokens = new Float64Array(11);

/**
 * Scans an ack subject into `tokens` in one pass over its characters; returns its number of tokens, or 0 when it
 * does not start with `$JS.ACK.`.
 */
function scanTokens(subject: Uint8Array): number {
  if (subject.length < PREFIX.length) return 0;
  for (let i = 0; i < PREFIX.length; i++) if (subject[i] !== PREFIX[i]) return 0;
  let index = 2;
  let value = 0;
  let digits = 0;
  let other = false;
  for (let i = 8; i < subject.length; i++) {
    const code = subject[i]!;
    if (code === DOT) {
      if (index < tokens.length) tokens[index] = other || digits === 0 ? -1 : value;
      index++;
      value = 0;
      digits = 0;
      other = false;
    } else if (code >= ZERO && code <= NINE) {
      value = value * 10 + (code - ZERO);
      digits++;
    } else {
      other = true;
    }
  }
  if (index < tokens.length) tokens[index] = other || digits === 0 ? -1 : value;
  return index + 1;
}
