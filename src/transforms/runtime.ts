import type { Transform } from '../core/ports.js';
import { createFilter, type FilterConfig } from './run/filter.js';
import { createJs, type JsConfig } from './run/js.js';
import { createKey, type KeyConfig } from './run/key.js';
import { createMap, type MapConfig } from './run/map.js';
import { createUppercase, type UppercaseConfig } from './run/uppercase.js';

/**
 * The built-in transforms without their schemas: what a worker thread imports to rebuild a chain the main
 * thread has already validated. It loads in a fraction of the time of the definitions (no schema library).
 */
export const transformFactories: Readonly<Record<string, (config: Record<string, unknown>) => Transform>> = {
  filter: (config) => createFilter(config as FilterConfig),
  map: (config) => createMap(config as MapConfig),
  key: (config) => createKey(config as KeyConfig),
  uppercase: (config) => createUppercase(config as UppercaseConfig),
  js: (config) => createJs(config as JsConfig),
};
