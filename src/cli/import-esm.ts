/**
 * Node's own `import()`, for `importModule` in the CLI's bundle: this file stays outside the bundle (a module of
 * its own in dist/cli/), which `require` loads, so its `import()` is compiled by Node as usual.
 */
export function importEsm(url: string): Promise<Record<string, unknown>> {
  return import(url) as Promise<Record<string, unknown>>;
}
