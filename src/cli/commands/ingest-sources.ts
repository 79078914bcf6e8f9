/**
 * The `http` source as a cluster node runs it: bound to 127.0.0.1 on a port of its own choosing (clients reach it
 * through any node's `POST /v1/pipelines/:name/ingest`, never directly), and registered in the node's
 * `IngestTargets` while it is open, so the ingest route finds it.
 */
import type { IngestTargets } from '../../cluster/ingest-targets.js';
import type { ComponentDefinition, ComponentRegistry, Source, SourceOpenOptions } from '../../core/ports.js';
import { HttpSource, httpSourceDefinition } from '../../connectors/sources/http.js';
import { registryOf } from '../../connectors/registry.js';

/** An http source that tells `targets` where it listens from its open to its close. */
function registered(source: HttpSource, targets: IngestTargets): Source {
  let pipeline: string | undefined;
  return {
    async open(options: SourceOpenOptions): Promise<void> {
      await source.open(options);
      const { host, port } = source.address();
      pipeline = options.pipeline;
      targets.set(pipeline, `${host}:${port}`);
    },
    read: (max) => source.read(max),
    ack: (position) => source.ack(position),
    awaitingAck: () => source.awaitingAck(),
    outcome: (records, outcome, previous) => source.outcome(records, outcome, previous),
    async close(): Promise<void> {
      if (pipeline !== undefined) targets.delete(pipeline);
      await source.close();
    },
  };
}

/** `registry` with its `http` source replaced by one a node's ingest route reaches. */
export function withIngestSources(registry: ComponentRegistry, targets: IngestTargets): ComponentRegistry {
  const http: ComponentDefinition = {
    ...httpSourceDefinition,
    create: (config) => registered(httpSourceDefinition.create({ ...config, address: '127.0.0.1:0' }) as HttpSource, targets),
  };
  return registryOf(registry.list().map((d) => (d.kind === 'source' && d.type === 'http' ? http : d)));
}
