import { WireError } from '../core/errors.js';
import type { ComponentSpec } from '../core/pipeline.js';
import type { ComponentDefinition, ComponentKind, ComponentRegistry, Sink, Source, Transform } from '../core/ports.js';

function definitionOf(registry: ComponentRegistry, kind: ComponentKind, spec: ComponentSpec, where: string): ComponentDefinition {
  const definition = registry.get(kind, spec.type);
  if (definition === undefined || definition.kind !== kind) {
    throw new WireError('INVALID_INPUT', `${where}: unknown ${kind} type '${spec.type}'`, { component: where, type: spec.type });
  }
  return definition;
}

// The registry types `create` as returning any component kind; the definition's `kind`, checked above, says which.
export function createSource(registry: ComponentRegistry, spec: ComponentSpec): Source {
  return definitionOf(registry, 'source', spec, 'source').create({ ...spec.config }) as Source;
}

export function createSink(registry: ComponentRegistry, spec: ComponentSpec, where: string): Sink {
  return definitionOf(registry, 'sink', spec, where).create({ ...spec.config }) as Sink;
}

/** Whether each transform of a chain declares itself stateless (see `ComponentDefinition.stateless`). */
export function statelessTransforms(registry: ComponentRegistry, specs: readonly ComponentSpec[]): boolean[] {
  return specs.map((spec) => registry.get('transform', spec.type)?.stateless === true);
}

/** Whether some transform of a chain may change records' keys (does not declare `keepsKey`). */
export function chainMaySetKeys(registry: ComponentRegistry, specs: readonly ComponentSpec[]): boolean {
  return specs.some((spec) => registry.get('transform', spec.type)?.keepsKey !== true);
}

export function createTransforms(registry: ComponentRegistry, specs: readonly ComponentSpec[]): Transform[] {
  return specs.map((spec, i) => definitionOf(registry, 'transform', spec, `transforms.${i}`).create({ ...spec.config }) as Transform);
}

/**
 * A registry from a module a worker thread imports: it exports `createRegistry()` (a full registry),
 * `transformFactories` (type → create, for configs already validated: `transforms/runtime.ts`) or
 * `transformDefinitions` (an array of transform definitions).
 */
export function registryFromModule(module: Readonly<Record<string, unknown>>, url: string): ComponentRegistry {
  const factory = module.createRegistry;
  if (typeof factory === 'function') return (factory as () => ComponentRegistry)();
  const factories = module.transformFactories;
  if (typeof factories === 'object' && factories !== null) {
    const create = factories as Record<string, ((config: Record<string, unknown>) => Transform) | undefined>;
    return {
      get: (kind, type) => {
        const factory = kind === 'transform' && Object.hasOwn(create, type) ? create[type] : undefined;
        return factory === undefined ? undefined : { kind, type, description: '', schema: {}, create: factory };
      },
      list: () => [],
    };
  }
  const definitions = module.transformDefinitions;
  if (Array.isArray(definitions)) {
    const list = definitions as ComponentDefinition[];
    return {
      get: (kind, type) => list.find((d) => d.kind === kind && d.type === type),
      list: (kind) => (kind === undefined ? list : list.filter((d) => d.kind === kind)),
    };
  }
  throw new WireError('INVALID_INPUT', `${url} exports neither createRegistry() nor transformDefinitions`, { module: url });
}

/** Closes a transform chain, first error reported after all have been tried. */
export async function closeTransforms(transforms: readonly Transform[]): Promise<void> {
  let first: unknown;
  for (const transform of transforms) {
    try {
      await transform.close?.();
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
}
