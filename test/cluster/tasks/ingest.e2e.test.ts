import { afterEach, describe, expect, it } from 'vitest';
import { http, NodeProcesses, until } from '../node/processes.js';
import { runningOn, startCluster } from './cluster.js';

const nodes = new NodeProcesses();
afterEach(() => nodes.stopAll());

const httpToDrop = (name: string): string =>
  `name: ${name}\nsource:\n  type: http\n  config: { address: "127.0.0.1:9", path: /in }\nsink:\n  type: drop\n  config: {}\n`;

describe('POST /v1/pipelines/:name/ingest through wire node', () => {
  it("reaches the pipeline's http source from every node, the one running its task and the others alike", async () => {
    const started = await startCluster(nodes, ['n1', 'n2', 'n3']);
    expect((await http(started[0]!, 'POST', '/v1/pipelines', httpToDrop('hooks'))).status).toBe(201);
    const task = await runningOn(started[0]!, 'hooks');
    for (const node of started) {
      // The source binds 127.0.0.1:0 on its node (not the configured address) and registers there once open.
      const answer = await until(`records taken through ${node.id}`, async () => {
        const r = await http(node, 'POST', '/v1/pipelines/hooks/ingest', '[{"n":1},{"n":2}]', 'application/json');
        return r.status === 200 ? r : undefined;
      });
      expect(answer.body).toEqual({ accepted: 2, dead_lettered: 0, dropped: 0, filtered: 0 });
      expect(answer.headers.get('x-wire-task-node')).toBe(task.node);
      expect(answer.headers.get('x-wire-node')).toBe(node.id);
    }
  }, 180_000);
});
