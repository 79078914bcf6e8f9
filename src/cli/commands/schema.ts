import { createRegistry } from '../../connectors/registry.js';
import { pipelineFileJsonSchema } from '../../config/json-schema.js';
import { EXIT_OK } from '../exit.js';
import type { CliIo } from '../io.js';

/** `wire schema`: the JSON Schema of pipeline files, for editors (docs/configuration.md, "Editor support"). */
export function schemaCommand(io: CliIo): number {
  io.stdout(JSON.stringify(pipelineFileJsonSchema(createRegistry()), null, 2) + '\n');
  return EXIT_OK;
}
