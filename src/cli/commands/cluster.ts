// `wire cluster status | nodes | remove ID | transfer-leader [ID] | backup -o FILE`, through a node's HTTP API (docs/api.md).
import { callApi, downloadApi, type ApiServer } from '../api-client.js';
import { apiServer } from '../api-token.js';
import type { ClientOptions } from '../client-commands.js';
import { EXIT_OK, errorJson, exitCodeOf, formatError } from '../exit.js';
import type { CliIo } from '../io.js';
import { formatTable } from '../table.js';

export type ClusterAction =
  | { readonly action: 'status' | 'nodes' }
  | { readonly action: 'remove'; readonly id: string }
  | { readonly action: 'transfer-leader'; readonly id?: string }
  | { readonly action: 'backup'; readonly file: string; readonly consistent: boolean };

interface Member {
  readonly id: string;
  readonly raftAddress: string;
  readonly httpAddress: string;
  readonly role: string | null;
  readonly voter: boolean;
  readonly reachable: boolean;
  readonly leader: boolean;
}

interface ClusterView {
  readonly id: string | null;
  readonly node: string;
  readonly role: string;
  readonly leaderId: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly nodes: number;
  readonly pipelines: number;
  readonly members: Member[];
}

function request(what: ClusterAction, server: ApiServer): Promise<unknown> {
  switch (what.action) {
    case 'status':
      return callApi(server, { method: 'GET', path: '/v1/cluster' });
    case 'nodes':
      return callApi(server, { method: 'GET', path: '/v1/cluster/nodes' });
    case 'remove':
      return callApi(server, { method: 'DELETE', path: `/v1/cluster/nodes/${encodeURIComponent(what.id)}` });
    case 'transfer-leader':
      return callApi(server, { method: 'POST', path: '/v1/cluster/leader/transfer', json: what.id === undefined ? {} : { to: what.id } });
    case 'backup':
      return downloadApi(server, `/v1/cluster/backup${what.consistent ? '' : '?consistent=false'}`, what.file).then(({ bytes }) => ({ file: what.file, bytes }));
  }
}

function membersTable(members: readonly Member[]): string {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const rows = members.map((m) => [m.id, m.leader ? 'leader' : m.voter ? 'voter' : 'learner', yes(m.reachable), m.httpAddress, m.raftAddress]);
  return formatTable(['ID', 'ROLE', 'REACHABLE', 'HTTP', 'RAFT'], rows);
}

function human(what: ClusterAction, answer: unknown): string {
  switch (what.action) {
    case 'status': {
      const c = answer as ClusterView;
      const head = [
        `cluster   ${c.id ?? '(not formed yet)'}`,
        `node      ${c.node} (${c.role})`,
        `leader    ${c.leaderId ?? '(none)'}`,
        `term      ${c.term}`,
        `commit    ${c.commitIndex} (applied ${c.appliedIndex})`,
        `pipelines ${c.pipelines}`,
      ];
      return head.join('\n') + '\n\n' + membersTable(c.members);
    }
    case 'nodes':
      return membersTable((answer as { nodes: Member[] }).nodes);
    case 'remove':
      return `removed ${(answer as { removed: string }).removed}\n`;
    case 'transfer-leader':
      return `leader is now ${(answer as { leader: string }).leader}\n`;
    case 'backup': {
      const b = answer as { file: string; bytes: number };
      return `backed up the cluster state to ${b.file} (${b.bytes} bytes)\n`;
    }
  }
}

export async function clusterCommand(what: ClusterAction, options: ClientOptions, io: CliIo): Promise<number> {
  try {
    const answer = await request(what, await apiServer(options, io.env));
    io.stdout(options.json ? JSON.stringify(answer) + '\n' : human(what, answer));
    return EXIT_OK;
  } catch (error) {
    io.stderr(options.json ? JSON.stringify({ type: 'error', error: errorJson(error) }) + '\n' : formatError(error, { debug: false }));
    return exitCodeOf(error);
  }
}
