import type { ComponentDefinition } from '../core/ports.js';
import { filterDefinition } from './filter.js';
import { jsDefinition } from './js.js';
import { keyDefinition } from './key.js';
import { mapDefinition } from './map.js';
import { uppercaseDefinition } from './uppercase.js';

export { compileExpression, type CompiledExpression } from './expr/index.js';
export { filterDefinition, jsDefinition, keyDefinition, mapDefinition, uppercaseDefinition };

/** Every built-in transform, for the component registry. */
export const transformDefinitions: ComponentDefinition[] = [
  filterDefinition,
  mapDefinition,
  keyDefinition,
  uppercaseDefinition,
  jsDefinition,
];
