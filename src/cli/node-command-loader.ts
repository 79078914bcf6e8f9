// `wire node`'s code, loaded only for that command: Raft, the cluster, the API and Fastify stay off every other
// command's path (`wire run` must not load them, docs/performance.md "Start-up").
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { CliIo } from './io.js';
import type { NodeFlagValues } from './commands/node-flags.js';
import type { SecurityFlagValues } from './commands/security-flags.js';
import { importModule } from './import-module.js';

export interface NodeCommandModule {
  nodeCommand(options: NodeFlagValues & SecurityFlagValues, io: CliIo): Promise<number>;
}

/**
 * From the CLI's bundle: `wire node`'s own bundle, dist/cli/wire-node.cjs, run from its code cache by the loader
 * that ran this one (bin/cached-bundle.js), so ~1,000 modules are neither resolved nor compiled. Unbundled (tests,
 * tsx): commands/node.js, by a URL the bundler cannot follow.
 */
export async function loadNodeCommand(): Promise<NodeCommandModule> {
  if (import.meta.url.endsWith('/cli/wire.cjs')) {
    const { runBundle } = createRequire(import.meta.url)('../../bin/cached-bundle.js') as { runBundle(file: string): unknown };
    return runBundle(fileURLToPath(new URL('./wire-node.cjs', import.meta.url))) as NodeCommandModule;
  }
  return (await importModule(new URL('./commands/node.js', import.meta.url).href)) as unknown as NodeCommandModule;
}
