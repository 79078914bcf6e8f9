/**
 * Which members this node can reach: each is asked `ping` over the cluster RPC every second; a member that
 * answered within the last three seconds is reachable. Feeds `status().members[].reachable` (`GET /nodes`).
 */
import type { RpcClient } from './rpc.js';

const PROBE_INTERVAL_MS = 1000;
const REACHABLE_FOR_MS = 3000;

export class PeerProbe {
  private readonly lastAnswer = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rpc: RpcClient,
    private readonly peers: () => ReadonlyArray<{ readonly id: string; readonly address: string }>,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.round(), PROBE_INTERVAL_MS);
    this.timer.unref();
    this.round();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  reachable(id: string): boolean {
    const at = this.lastAnswer.get(id);
    return at !== undefined && Date.now() - at < REACHABLE_FOR_MS;
  }

  private round(): void {
    for (const peer of this.peers()) {
      this.rpc.call(peer.address, 'ping', {}, PROBE_INTERVAL_MS).then(
        () => this.lastAnswer.set(peer.id, Date.now()),
        // An unanswered ping is what this tracks, not an error to report.
        () => undefined,
      );
    }
  }
}
