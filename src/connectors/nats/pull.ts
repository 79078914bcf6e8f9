import type { Consumer, ConsumerMessages, FetchMessages, JsMsg } from '@nats-io/jetstream';

/** A fetch's options with the callback the client's pull machinery takes (its `consume` types name it; `fetch` shares the code). */
type FetchWithCallback = FetchMessages & { readonly callback: (msg: JsMsg) => void };

/**
 * How long the server holds a fetch open waiting for messages (the client asks for heartbeats every half of it): on an
 * idle stream one fetch every 5 s, and a consumer deleted under a fetch (the server then goes silent) is found
 * within ~5 s by the missed heartbeats, instead of the client's default 30 s.
 */
const FETCH_EXPIRES_MS = 5000;

/**
 * Pulls a JetStream consumer's messages in fetches of one batch each, handing every message to `onMessage` as the
 * client parses it: no promise and no async-iterator step per message (the client's iterator costs both).
 *
 * The flow is bounded: a new fetch is asked for only while less than half a batch is still to come from the fetches
 * under way (so at most a batch and a half is ever asked for and not received), and only while `wanted()` says the
 * reader has room (the source: no full batch waiting for the engine). What is received and not yet read is thus a few
 * batches at most, never the stream.
 *
 * A fetch ends once its messages are in, or when the server ends it (its `expires`, a deleted consumer), or with
 * `stop()`. `onEnd` hears of every end, with the fetch's error if it failed; the reader decides whether to go on.
 */
export class Pull {
  /** Messages asked for by the fetches under way and not received yet. */
  private asked = 0;
  private readonly fetches = new Set<ConsumerMessages>();
  private starting = 0;
  private stopped = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly batch: number,
    private readonly onMessage: (msg: JsMsg) => void,
    private readonly onEnd: (error: unknown) => void,
    private readonly wanted: () => boolean,
  ) {}

  /** Starts a fetch when the flow allows one (see the class). Cheap: called after every message and every read. */
  topUp(): void {
    if (this.stopped || this.starting > 0 || this.asked * 2 > this.batch || !this.wanted()) return;
    this.start();
  }

  /** Ends every fetch under way and starts no more: messages they still bring are not handed on. */
  stop(): void {
    this.stopped = true;
    for (const messages of this.fetches) messages.stop();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private start(): void {
    const count = this.batch;
    let received = 0;
    this.asked += count;
    this.starting++;
    const options: FetchWithCallback = {
      max_messages: count,
      expires: FETCH_EXPIRES_MS,
      callback: (msg) => {
        if (this.stopped) return;
        // A server may send more than a fetch asked for (a lying or buggy one): every message is handed on (it is
        // real and wants its ack), but only the first `count` are taken off what is owed, so the surplus cannot
        // drive `asked` below zero and start a fetch after every message.
        if (received < count) this.asked--;
        received++;
        this.onMessage(msg);
        this.topUp();
      },
    };
    this.consumer.fetch(options).then(
      (messages) => {
        this.starting--;
        this.fetches.add(messages);
        if (this.stopped) messages.stop();
        void messages.closed().then(
          (error) => this.ended(messages, Math.max(0, count - received), error),
          (error: unknown) => this.ended(messages, Math.max(0, count - received), error),
        );
      },
      (error: unknown) => {
        this.starting--;
        this.asked -= count;
        this.onEnd(error);
      },
    );
  }

  /** A fetch ended with `missing` of its messages never received (the server ended it early, or a stop). */
  private ended(messages: ConsumerMessages, missing: number, error: unknown): void {
    this.fetches.delete(messages);
    this.asked -= missing;
    this.onEnd(error ?? undefined);
  }
}
