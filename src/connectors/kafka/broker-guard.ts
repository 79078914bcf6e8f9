import { WireError } from '../../core/errors.js';

type GetConnection = (broker: unknown, callback: (error: Error | null, connection?: unknown) => void) => void;

/** How @platformatic/kafka 1.35.0 names the client method every request gets its broker connection through. */
const GET_CONNECTION = 'plt.kafka.base.getConnection';

/**
 * Guards a @platformatic/kafka client against asking for a broker its metadata does not hold. With a broker down,
 * a group coordinator (offset commits) or a partition leader can be an id that the last metadata answer left out;
 * 1.35.0 then reads `host` of undefined inside a socket callback, an exception no caller can catch, which ends the
 * process. Guarded, the request fails like an unreachable broker: the client's retries, then ours (`retry.ts`),
 * take over. The method is found by its symbol's name (the package exports no handle on it); the version is
 * pinned, and a client without it is refused rather than run unguarded.
 */
export function guardBrokerLookups<T extends object>(client: T): T {
  let proto: object | null = Object.getPrototypeOf(client) as object | null;
  while (proto !== null) {
    const symbol = Object.getOwnPropertySymbols(proto).find((s) => s.description === GET_CONNECTION);
    if (symbol !== undefined) {
      const original = (proto as Record<symbol, GetConnection>)[symbol]!;
      const guarded: GetConnection = function (this: unknown, broker, callback) {
        if (broker === undefined || broker === null) {
          callback(new Error('the broker this request needs is not in the cluster metadata (down or restarting)'));
          return;
        }
        original.call(this, broker, callback);
      };
      Object.defineProperty(client, symbol, { value: guarded, configurable: true, writable: true });
      return client;
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  throw new WireError('INTERNAL', `kafka: the client has no ${GET_CONNECTION} method to guard (is @platformatic/kafka 1.35.0 installed?)`);
}
