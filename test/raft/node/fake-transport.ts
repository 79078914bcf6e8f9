/**
 * An in-memory transport for driver tests that play the peers themselves: it records what the node
 * sends (and when, relative to other recorded events) and lets the test deliver any message to it.
 */
import type { NodeId } from '../../../src/raft/core/types.js';
import type { Transport } from '../../../src/raft/ports.js';
import type { WireMessage } from '../../../src/raft/snapshot/install-messages.js';

export class FakeTransport implements Transport<WireMessage> {
  readonly sent: WireMessage[] = [];
  private handler: ((from: NodeId, message: WireMessage) => void) | undefined;

  constructor(private readonly onSend: (m: WireMessage) => void = () => undefined) {}

  send(_to: NodeId, _address: string, message: WireMessage): void {
    this.sent.push(message);
    this.onSend(message);
  }

  onMessage(handler: (from: NodeId, message: WireMessage) => void): void {
    this.handler = handler;
  }

  deliver(message: WireMessage): void {
    this.handler?.(message.from, message);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
