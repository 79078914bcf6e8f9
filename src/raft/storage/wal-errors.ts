import { CorruptStorageError } from '../errors.js';

/**
 * A WAL record failed verification although recovery can prove it was fsynced, so the node may have
 * acknowledged it (a vote, an entry). Cutting it would make the node forget that: it refuses to start.
 * Code `CORRUPT_STORAGE`; the repair is in docs/raft.md ("Repairing a node whose WAL is corrupt").
 */
export class WalCorruptError extends CorruptStorageError {
  constructor(
    /** The segment file holding the damaged record. */
    readonly file: string,
    /** Where the damaged record starts in it. */
    readonly offset: number,
    /** What is wrong with it (checksum mismatch, length past the end, out of place...). */
    readonly reason: string,
    /** What proves it was fsynced. */
    readonly proof: string,
  ) {
    super(
      `WAL segment ${file} is corrupt at offset ${offset} (${reason}); it was fsynced (${proof}), so the node may have ` +
        'acknowledged what it held: refusing to start rather than forget it. Move the data directory aside ' +
        '(moveDataDirAside) and rejoin as a new member, see docs/raft.md, "Repairing a node whose WAL is corrupt"',
    );
  }
}
