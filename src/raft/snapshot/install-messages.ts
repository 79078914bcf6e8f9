/**
 * The driver's InstallSnapshot protocol, carried beside the core's messages on the same transport.
 * The core only says "send snapshot S to X" (a `snapshot` message with metadata); the leader's driver
 * streams S's bytes as chunks at offsets, the follower's driver writes them into its snapshot store and
 * acknowledges how much it holds, so a lost chunk is resent from the acknowledged offset.
 */
import type { Message, NodeId, SnapshotMeta } from '../core/types.js';

export interface SnapshotChunkMessage {
  readonly type: 'snapshotChunk';
  readonly from: NodeId;
  readonly to: NodeId;
  /** The leader's term when the core asked for this snapshot. */
  readonly term: number;
  readonly snapshot: SnapshotMeta;
  readonly offset: number;
  readonly data: Uint8Array;
}

export interface SnapshotAckMessage {
  readonly type: 'snapshotAck';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** Identifies the snapshot being acknowledged. */
  readonly index: number;
  readonly snapshotTerm: number;
  /** Bytes the follower holds, contiguous from 0: where the leader resumes. */
  readonly received: number;
  /** Offset of the chunk this answers; past `received` means a chunk before it was lost. */
  readonly chunkOffset: number;
  /** progress: send more; done: sealed and handed to the core; failed: give up (e.g. checksum mismatch). */
  readonly status: 'progress' | 'done' | 'failed';
}

/** Everything Raft nodes send each other. */
export type WireMessage = Message | SnapshotChunkMessage | SnapshotAckMessage;
