/**
 * Wire's Raft library: the pure core, the driver (`RaftNode`), file storage (WAL, snapshots) and the TCP
 * transport. Everything a script needs to run a node:
 *
 *   const storage = await openDiskStorage(dir);
 *   const transport = await TcpTransport.listen<WireMessage>({ nodeId: 'n1', clusterId: 'c', port: 7001 });
 *   const node = await RaftNode.start({ id: 'n1', address: transport.address, membership, storage, transport, stateMachine });
 */
export * from './core/types.js';
export { RaftCore } from './core/raft.js';
export * from './ports.js';
export * from './errors.js';
export { RaftNode } from './node.js';
export { systemClock, type Clock, type TimerHandle } from './clock.js';
export { nodeStorageFs, type StorageFs, type OpenFlags, type StorageFile } from './storage/storage-fs.js';
export type { ProposeOutcome, PeerInfo, RaftNodeEvents, RaftNodeOptions, RaftNodeStatus, RaftStorage } from './node-types.js';
export type { WireMessage, SnapshotChunkMessage, SnapshotAckMessage } from './snapshot/install-messages.js';
export { FileSnapshotStore, type FileSnapshotStoreOptions } from './snapshot/file-snapshot-store.js';
export { WalStore, type WalStoreOptions } from './storage/wal-store.js';
export type { WalOpenReport } from './storage/wal-recovery.js';
export { WalCorruptError } from './storage/wal-errors.js';
export { moveDataDirAside, type MoveAsideOptions } from './storage/data-dir-repair.js';
export type { WalStats } from './storage/wal-writer.js';
export { openDiskStorage, type DiskStorage, type DiskStorageOptions } from './storage/disk-storage.js';
export { crc32c } from './storage/crc32c.js';
export { TcpTransport, RAFT_PROTOCOL, type AttachedTransportOptions, type TcpTransportOptions, type TransportStats } from './transport/tcp.js';
export { NODE_ID_URI_SCHEME, nodeIdUri, certificateNodeIds } from './transport/peer-identity.js';
export { validateWireMessage, MAX_COUNT, type Validated, type ValidationContext } from './message-validation.js';
