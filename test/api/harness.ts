/**
 * An API over a fake handle, for `inject` tests; `close()` closes both. Every request carries an admin token made
 * in the handle's state unless it sets its own `authorization` header (`unauthenticated` sends none).
 */
import type { InjectOptions } from 'fastify';
import { buildApi, type ApiOptions } from '../../src/api/server.js';
import type { Api } from '../../src/api/routes/context.js';
import type { Role } from '../../src/security/auth-tokens.js';
import { fakeHandle, type FakeHandle } from './fake-handle.js';
import { createToken } from './tokens.js';

export interface TestApi {
  readonly api: Api;
  readonly handle: FakeHandle;
  /** The admin token every request carries by default. */
  readonly adminToken: string;
  /** A new token of `role` in the state (`pipelines`: the patterns it is limited to; `expiresAt`: when it expires). */
  token(role: Role, more?: { pipelines?: string[]; expiresAt?: number }): Promise<{ token: string; id: string }>;
  close(): Promise<void>;
}

export const unauthenticated = { authorization: undefined } as const;

export async function testApi(options: ApiOptions & { init?: boolean } = {}): Promise<TestApi> {
  const { init, ...apiOptions } = options;
  const handle = await fakeHandle({ init });
  const api = await buildApi(handle, apiOptions);
  const token: TestApi['token'] = (role, more = {}) => createToken(handle, role, more);
  const admin = init === false ? { token: '', id: '' } : await token('admin');
  handle.writes.length = 0;
  const inject = api.inject.bind(api) as (o: InjectOptions) => ReturnType<Api['inject']>;
  const withToken = (o: InjectOptions): InjectOptions => {
    const headers = { ...o.headers } as Record<string, string | undefined>;
    if (!('authorization' in headers)) headers['authorization'] = `Bearer ${admin.token}`;
    else if (headers['authorization'] === undefined) delete headers['authorization'];
    return { ...o, headers: headers as InjectOptions['headers'] };
  };
  (api as { inject: unknown }).inject = (o: InjectOptions) => inject(withToken(o));
  return {
    api,
    handle,
    adminToken: admin.token,
    token,
    close: async () => {
      await api.close();
      await handle.close();
    },
  };
}

export const pipelineYaml = (name: string, count = 3): string =>
  `name: ${name}\nsource:\n  type: generate\n  config:\n    count: ${count}\nsink:\n  type: stdout\n`;

export const yaml = { 'content-type': 'application/yaml' };
