/** An API over a fake handle, for `inject` tests; `close()` closes both. */
import { buildApi, type ApiOptions } from '../../src/api/server.js';
import type { Api } from '../../src/api/routes/context.js';
import { fakeHandle, type FakeHandle } from './fake-handle.js';

export interface TestApi {
  readonly api: Api;
  readonly handle: FakeHandle;
  close(): Promise<void>;
}

export async function testApi(options: ApiOptions & { init?: boolean } = {}): Promise<TestApi> {
  const { init, ...apiOptions } = options;
  const handle = await fakeHandle({ init });
  const api = await buildApi(handle, apiOptions);
  return {
    api,
    handle,
    close: async () => {
      await api.close();
      await handle.close();
    },
  };
}

export const pipelineYaml = (name: string, count = 3): string =>
  `name: ${name}\nsource:\n  type: generate\n  config:\n    count: ${count}\nsink:\n  type: stdout\n`;

export const yaml = { 'content-type': 'application/yaml' };
