/**
 * Length-prefixed frames: a 4-byte big-endian payload length, then the payload (msgpack). The
 * decoder refuses a length above the limit before buffering any of it, so a bad or hostile peer cannot
 * make us allocate an arbitrary amount of memory. A payload that is not valid msgpack comes out as
 * `UNDECODABLE`: its length kept the stream in step, so the frames after it still decode.
 */
import { Packr } from 'msgpackr';
import { RaftError } from '../errors.js';

// useRecords: false keeps frames self-describing (no shared structures between two processes);
// Uint8Array values are encoded as msgpack bin and come back as Buffers.
const packr = new Packr({ useRecords: false });

export class FrameTooLargeError extends RaftError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super('INVALID_ARGUMENT', `frame of ${size} bytes exceeds the limit of ${limit}`);
  }
}

export function encodeFrame(value: unknown): Buffer {
  const body = packr.pack(value);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Stands for a frame whose payload could not be decoded. */
export const UNDECODABLE: unique symbol = Symbol('undecodable frame');

function unpack(payload: Buffer): unknown {
  try {
    return packr.unpack(payload);
  } catch {
    return UNDECODABLE;
  }
}

/** Reassembles frames from a byte stream. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; returns the decoded payloads completed by them (or UNDECODABLE). Throws FrameTooLargeError. */
  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: unknown[] = [];
    while (this.buffered >= 4) {
      const head = this.peekLength();
      if (head > this.maxFrameBytes) throw new FrameTooLargeError(head, this.maxFrameBytes);
      if (this.buffered < 4 + head) break;
      const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
      out.push(unpack(all.subarray(4, 4 + head)));
      const rest = all.subarray(4 + head);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return out;
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return first.readUInt32BE(0);
    const merged = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [merged];
    return merged.readUInt32BE(0);
  }
}
