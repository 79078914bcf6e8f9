// What a broker can never take in a PUBLISH, checked before sending: a broker that gets one drops the connection
// (MQTT 3.1.1) or disconnects with "packet too large" / "topic name invalid" (MQTT 5), and a client that sends it
// again on every reconnect never gets past it.

/** The PUBLISH the sink is about to send. */
export interface PublishShape {
  readonly topic: string;
  readonly payload: string;
  /** The record's key, sent as the `wire-key` user property with MQTT 5. */
  readonly key: string | undefined;
  readonly qos: 0 | 1;
  readonly version: 4 | 5;
}

const MAX_TOPIC_BYTES = 65_535;

/**
 * Why the broker would refuse this PUBLISH, or undefined when it can take it. `maxPacketSize` is the broker's limit
 * from its CONNACK (MQTT 5), undefined when it stated none.
 */
export function publishProblem(shape: PublishShape, maxPacketSize: number | undefined): string | undefined {
  const { topic } = shape;
  if (topic.length === 0) return 'an empty topic';
  if (topic.includes('+') || topic.includes('#') || topic.includes('\0')) return `topic ${JSON.stringify(topic.slice(0, 200))} holds a wildcard (+ or #) or NUL, which a PUBLISH may not`;
  const topicBytes = Buffer.byteLength(topic);
  if (topicBytes > MAX_TOPIC_BYTES) return `a topic of ${topicBytes} bytes (at most ${MAX_TOPIC_BYTES})`;
  if (maxPacketSize === undefined) return undefined;
  const size = packetSize(shape, topicBytes);
  return size > maxPacketSize ? `a message of ${size} bytes, over the broker's maximum packet size of ${maxPacketSize}` : undefined;
}

/** The PUBLISH packet's size on the wire: fixed header, topic, packet id (QoS 1), properties (MQTT 5), payload. */
function packetSize(shape: PublishShape, topicBytes: number): number {
  let properties = 0;
  if (shape.version === 5 && shape.key !== undefined) properties = 1 + 2 + 'wire-key'.length + 2 + Buffer.byteLength(shape.key);
  const remaining = 2 + topicBytes + (shape.qos > 0 ? 2 : 0) + (shape.version === 5 ? varIntSize(properties) + properties : 0) + Buffer.byteLength(shape.payload);
  return 1 + varIntSize(remaining) + remaining;
}

function varIntSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}
