import { stringify } from 'yaml';
import type { ComponentDefinition, ComponentKind, ComponentRegistry, JsonSchema } from '../core/ports.js';

/** One config field as the docs show it, flattened (`batch.count`). */
export interface FieldDoc {
  readonly path: string;
  readonly type: string;
  readonly default?: unknown;
  readonly required: boolean;
  readonly description: string;
}

const SECTIONS: ReadonlyArray<{ kind: ComponentKind; title: string; key: string }> = [
  { kind: 'source', title: 'Sources', key: 'source' },
  { kind: 'transform', title: 'Transforms', key: 'transforms' },
  { kind: 'sink', title: 'Sinks', key: 'sink' },
];

type Schema = Readonly<Record<string, unknown>>;

function asSchema(value: unknown): Schema | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Schema) : undefined;
}

/** A schema's type in the words a pipeline author uses: `"jsonl" | "csv"`, `integer`, `string[]`, `map of string`. */
export function typeOf(schema: Schema): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  const alternatives = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (Array.isArray(alternatives)) return alternatives.map((a) => typeOf(asSchema(a) ?? {})).join(' | ');
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.type === 'array') return `${typeOf(asSchema(schema.items) ?? {})}[]`;
  if (schema.type === 'object' && schema.properties === undefined) {
    const values = asSchema(Object.values(asSchema(schema.patternProperties) ?? {})[0]) ?? asSchema(schema.additionalProperties);
    return values === undefined ? 'object' : `map of ${typeOf(values)}`;
  }
  return typeof schema.type === 'string' ? schema.type : 'any';
}

/** Every field of a component's config schema, nested objects flattened to dotted paths. */
export function describeFields(schema: JsonSchema, prefix = ''): FieldDoc[] {
  const properties = asSchema(schema.properties) ?? {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const fields: FieldDoc[] = [];
  for (const [name, raw] of Object.entries(properties)) {
    const field = asSchema(raw) ?? {};
    const path = prefix + name;
    const hasDefault = 'default' in field;
    fields.push({
      path,
      type: typeOf(field),
      ...(hasDefault ? { default: field.default } : {}),
      // A field with a default may be left out, whatever the schema's `required` says.
      required: required.has(name) && !hasDefault,
      description: typeof field.description === 'string' ? field.description : '',
    });
    if (field.type === 'object' && field.properties !== undefined) fields.push(...describeFields(field, path + '.'));
  }
  return fields;
}

function sorted(registry: ComponentRegistry, kind: ComponentKind): ComponentDefinition[] {
  return [...registry.list(kind)].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function exampleYaml(key: string, definition: ComponentDefinition): string {
  const entry = { type: definition.type, config: definition.example ?? {} };
  return stringify(key === 'transforms' ? { transforms: [entry] } : { [key]: entry }).trimEnd();
}

/** The Markdown reference of every source, transform and sink (`docs/connectors.md`), from their schemas. */
export function renderConnectorDocs(registry: ComponentRegistry): string {
  const out: string[] = [
    '# Connectors and transforms',
    '',
    'Generated from each component\'s config schema (`wire connectors --markdown`); the same schemas validate pipeline files.',
    'A field with a default may be left out.',
  ];
  for (const section of SECTIONS) {
    const definitions = sorted(registry, section.kind);
    if (definitions.length === 0) continue;
    out.push('', `## ${section.title}`);
    for (const definition of definitions) {
      out.push('', `### \`${definition.type}\``, '', definition.description, '');
      const fields = describeFields(definition.schema);
      if (fields.length === 0) {
        out.push('No configuration.');
      } else {
        out.push('| Field | Type | Default | Required | Description |', '|---|---|---|---|---|');
        for (const f of fields) {
          const dflt = f.default === undefined ? '' : `\`${cell(JSON.stringify(f.default))}\``;
          out.push(`| \`${f.path}\` | ${cell(f.type)} | ${dflt} | ${f.required ? 'yes' : 'no'} | ${cell(f.description)} |`);
        }
      }
      out.push('', 'Example:', '', '```yaml', exampleYaml(section.key, definition), '```');
      if (definition.notes !== undefined) out.push('', definition.notes);
    }
  }
  return out.join('\n') + '\n';
}

/** The plain-text listing `wire connectors` prints on a terminal. */
export function renderConnectorText(registry: ComponentRegistry): string {
  const out: string[] = [];
  for (const section of SECTIONS) {
    const definitions = sorted(registry, section.kind);
    if (definitions.length === 0) continue;
    if (out.length > 0) out.push('');
    out.push(`${section.title}:`);
    for (const definition of definitions) {
      out.push(`  ${definition.type} — ${definition.description}`);
      for (const f of describeFields(definition.schema)) {
        const attrs = [f.type, f.required ? 'required' : undefined, f.default === undefined ? undefined : `default ${JSON.stringify(f.default)}`]
          .filter((a) => a !== undefined)
          .join(', ');
        out.push(`      ${f.path} (${attrs})${f.description === '' ? '' : ': ' + f.description}`);
      }
    }
  }
  return out.join('\n') + '\n';
}
