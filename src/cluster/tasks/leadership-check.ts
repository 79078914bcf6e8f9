/**
 * How a leader confirms it still leads before it grants a lease, without Raft's read index.
 *
 * A read index answers only once the leader has applied up to its commit index, and its heartbeat round and the
 * answer both wait behind the Raft driver's fsyncs and applies: under load (1,000 tasks checkpointing) that took
 * 350–870 ms per renewal, and leases lapsed. A lease needs less than a read: only that no other leader was elected
 * before the renewal arrived. So the leader asks each voter its current term over the cluster RPC (which no fsync
 * holds back), and it is confirmed once a majority of the voters, itself included, answered with its own term to a
 * question sent after the renewal arrived.
 *
 * Why that suffices: a voter's term only grows, and a vote in term t' is cast only once the voter's term is t'. A
 * voter that answered "t" at time x had voted in no term above t before x. A leader of a later term needs the votes
 * of a majority, which shares a voter with the majority that answered, so it was elected after that voter answered,
 * hence after the renewal arrived, hence after the node sent it: the lease the node counts from its sending ends
 * within one lease of the new leader taking over, which is the grace a new leader gives (see `leases.ts`).
 *
 * `SharedConfirmation` gives every renewal waiting the same check: one question to each voter per round trip,
 * whatever the number of nodes renewing.
 */
import { WireError } from '../../core/errors.js';
import type { RpcClient } from '../rpc.js';

export interface LeaderView {
  readonly role: string;
  readonly term: number;
  readonly voters: readonly { readonly id: string; readonly address: string }[];
}

export interface LeadershipCheckDeps {
  readonly self: string;
  /** This node's Raft view now: role, term and the voters of the configuration in effect. */
  readonly raft: () => LeaderView | undefined;
  /** Asks the voter at `address` its current term (the `lease.term` RPC). */
  readonly askTerm: (address: string, timeoutMs: number) => Promise<number>;
  readonly timeoutMs: number;
}

/** The RPC method a voter answers with its current Raft term. */
export const TERM_METHOD = 'lease.term';

/** Resolves once a majority of the voters (this node included) has answered with this leader's term. */
export function confirmLeadership(d: LeadershipCheckDeps): Promise<void> {
  const view = d.raft();
  if (view?.role !== 'leader') return Promise.reject(new WireError('NOT_LEADER', `${d.self} does not lead`));
  const { term, voters } = view;
  const needed = Math.floor(voters.length / 2) + 1;
  return new Promise((resolve, reject) => {
    let agreed = voters.some((v) => v.id === d.self) ? 1 : 0;
    let pending = voters.length - agreed;
    let settled = false;
    const settle = (error?: WireError): void => {
      if (settled) return;
      // Still the leader of the same term: a majority that answered for a term this node has since left proves nothing.
      const now = d.raft();
      if (error === undefined && (now?.role !== 'leader' || now.term !== term)) error = new WireError('NOT_LEADER', `${d.self} no longer leads term ${term}`);
      settled = true;
      if (error) reject(error);
      else resolve();
    };
    const counted = (): void => {
      if (agreed >= needed) settle();
      else if (agreed + pending < needed) settle(new WireError('NOT_LEADER', `${d.self} could not confirm it leads term ${term}: too few voters answered with it`));
    };
    for (const v of voters) {
      if (v.id === d.self) continue;
      d.askTerm(v.address, d.timeoutMs).then(
        (theirs) => {
          pending--;
          if (theirs === term) agreed++;
          counted();
        },
        () => {
          pending--;
          counted();
        },
      );
    }
    counted();
  });
}

/**
 * One confirmation for every caller waiting: a caller is answered by a confirmation that started after it called
 * (one already on its way started before, so it waits for the next, which starts when that one ends).
 */
export class SharedConfirmation {
  private current: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly confirm: () => Promise<unknown>) {}

  confirmed(): Promise<void> {
    if (this.current === undefined) return this.start();
    this.next ??= this.current.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  private start(): Promise<void> {
    this.next = undefined;
    const run = Promise.resolve()
      .then(() => this.confirm())
      .then(() => undefined)
      .finally(() => {
        if (this.current === run) this.current = undefined;
      });
    this.current = run;
    return run;
  }
}

interface RaftStatusLike {
  readonly role: string;
  readonly term: number;
  readonly membership: { readonly voters: readonly { readonly id: string; readonly address: string }[] };
}

/** The production check: the voters' terms asked over the cluster RPC (`node.ts` wires it as `confirmLeader`). */
export function rpcLeadershipCheck(self: string, status: () => RaftStatusLike | undefined, rpc: Pick<RpcClient, 'call'>, timeoutMs: number): () => Promise<void> {
  const raft = (): LeaderView | undefined => {
    const s = status();
    return s && { role: s.role, term: s.term, voters: s.membership.voters };
  };
  const askTerm = async (address: string, ms: number): Promise<number> => {
    const term = ((await rpc.call(address, TERM_METHOD, {}, ms)) as { term?: unknown } | undefined)?.term;
    if (typeof term !== 'number') throw new WireError('INTERNAL', `${TERM_METHOD} from ${address} answered no term`);
    return term;
  };
  return () => confirmLeadership({ self, raft, askTerm, timeoutMs });
}
