import type { CliIo } from '../io.js';
import { EXIT_OK } from '../exit.js';
import { renderConnectorDocs, renderConnectorText } from '../../connectors/docs.js';
import { createRegistry } from '../../connectors/registry.js';

/**
 * `wire connectors`: every registered source, transform and sink with its config fields, from the
 * same schemas that validate pipeline files; `--markdown` prints docs/connectors.md's content.
 */
export function connectorsCommand(options: { markdown: boolean }, io: CliIo): number {
  const registry = createRegistry();
  io.stdout(options.markdown ? renderConnectorDocs(registry) : renderConnectorText(registry));
  return EXIT_OK;
}
