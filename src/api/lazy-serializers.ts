/**
 * Response serializers compiled on first use rather than when the API starts. Fastify compiles a fast-json-stringify
 * function for every response schema of every route at `ready()`: about 0.3 s of CPU at a node's start (measured),
 * spent before the node can answer anything, for routes most of which a node never serves. Each route's
 * serializer is the one Fastify would have built, from the same factory, once its first answer is sent.
 */
import SerializerSelector from '@fastify/fast-json-stringify-compiler';

type Factory = ReturnType<typeof SerializerSelector>;

const eager: Factory = SerializerSelector();

export const lazySerializers: Factory = (externalSchemas, options) => {
  const compile = eager(externalSchemas, options);
  return (route) => {
    let serializer: ((doc: unknown) => string) | undefined;
    return (doc: unknown) => (serializer ??= compile(route))(doc);
  };
};
