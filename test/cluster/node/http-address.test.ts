// `wire node --http-addr 127.0.0.1:0`: the address the node advertises is the one its API is bound to.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { http, NodeProcesses, until } from './processes.js';

const nodes = new NodeProcesses();
afterEach(() => nodes.stopAll());

const SQUATTER = fileURLToPath(new URL('./port-squatter.mjs', import.meta.url));

describe('wire node --http-addr 127.0.0.1:0', () => {
  it('advertises the port its API is bound to, even when a port it let go of is taken at once', async () => {
    const node = await nodes.start('solo', [], { nodeArgs: ['--import', SQUATTER] });
    const record = await until('the node record', async () => {
      const r = await http(node, 'GET', '/v1/cluster/nodes');
      return (r.body as { nodes: Array<{ id: string; httpAddress: string }> }).nodes.find((n) => n.id === 'solo' && n.httpAddress !== '');
    });
    expect(record.httpAddress).toBe(node.http);
    expect(((await http(node, 'GET', '/v1/cluster')).body as { leaderHttp: string }).leaderHttp).toBe(node.http);
  }, 60_000);
});
