// `wire token create | list | revoke ID` and `wire audit`, through a node's HTTP API (admin only; docs/security.md).
import { callApi, type ApiServer } from '../api-client.js';
import { apiServer } from '../api-token.js';
import type { ClientOptions } from '../client-commands.js';
import { EXIT_OK, errorJson, exitCodeOf, formatError } from '../exit.js';
import type { CliIo } from '../io.js';
import { formatTable, formatTime } from '../table.js';

export type TokenAction =
  | { readonly action: 'create'; readonly role: string; readonly pipelines?: string; readonly ttl?: string; readonly name?: string }
  | { readonly action: 'list' }
  | { readonly action: 'revoke'; readonly id: string }
  | { readonly action: 'audit'; readonly limit?: number; readonly after?: number };

interface TokenInfo {
  readonly id: string;
  readonly role: string;
  readonly pipelines: string[] | null;
  readonly name: string;
  readonly expiresAt: number | null;
  readonly state: string;
}

interface AuditEntry {
  readonly seq: number;
  readonly at: number;
  readonly node: string;
  readonly address: string;
  readonly token: string | null;
  readonly action: string;
  readonly target: string | null;
  readonly result: string;
  readonly status: number | null;
}

function request(what: TokenAction, server: ApiServer): Promise<unknown> {
  switch (what.action) {
    case 'create': {
      const pipelines = what.pipelines?.split(',').map((p) => p.trim()).filter((p) => p !== '');
      const json = { role: what.role, ...(pipelines === undefined ? {} : { pipelines }), ...(what.ttl === undefined ? {} : { ttl: what.ttl }), ...(what.name === undefined ? {} : { name: what.name }) };
      return callApi(server, { method: 'POST', path: '/v1/tokens', json });
    }
    case 'list':
      return callApi(server, { method: 'GET', path: '/v1/tokens' });
    case 'revoke':
      return callApi(server, { method: 'DELETE', path: `/v1/tokens/${encodeURIComponent(what.id)}` });
    case 'audit': {
      const query = new URLSearchParams();
      if (what.limit !== undefined) query.set('limit', String(what.limit));
      if (what.after !== undefined) query.set('after', String(what.after));
      const q = query.toString();
      return callApi(server, { method: 'GET', path: `/v1/audit${q === '' ? '' : `?${q}`}` });
    }
  }
}

function human(what: TokenAction, answer: unknown, io: CliIo): string {
  switch (what.action) {
    case 'create': {
      const { token, info } = answer as { token: string; info: TokenInfo };
      io.stderr(`created token ${info.id} (role ${info.role}${info.expiresAt === null ? '' : `, expires ${formatTime(info.expiresAt)}`}); it is shown only now\n`);
      return `${token}\n`;
    }
    case 'list': {
      const { tokens } = answer as { tokens: TokenInfo[] };
      const rows = tokens.map((t) => [t.id, t.role, t.pipelines?.join(',') ?? '*', t.state, t.expiresAt === null ? 'never' : formatTime(t.expiresAt), t.name]);
      return formatTable(['ID', 'ROLE', 'PIPELINES', 'STATE', 'EXPIRES', 'NAME'], rows);
    }
    case 'revoke':
      return `revoked ${(answer as { revoked: string }).revoked}\n`;
    case 'audit': {
      const { entries } = answer as { entries: AuditEntry[] };
      if (entries.length === 0) return 'no audit entries\n';
      const rows = entries.map((e) => [String(e.seq), formatTime(e.at), e.node, e.address === '' ? '-' : e.address, e.token ?? '-', e.action, e.target ?? '', e.status === null ? e.result : `${e.result} ${e.status}`]);
      return formatTable(['SEQ', 'TIME', 'NODE', 'ADDRESS', 'TOKEN', 'ACTION', 'TARGET', 'RESULT'], rows);
    }
  }
}

export async function tokenCommand(what: TokenAction, options: ClientOptions, io: CliIo): Promise<number> {
  try {
    const answer = await request(what, await apiServer(options, io.env));
    io.stdout(options.json ? JSON.stringify(answer) + '\n' : human(what, answer, io));
    return EXIT_OK;
  } catch (error) {
    io.stderr(options.json ? JSON.stringify({ type: 'error', error: errorJson(error) }) + '\n' : formatError(error, { debug: false }));
    return exitCodeOf(error);
  }
}
