import { runtimeError, typeName, type Site } from './errors.js';

/** A function's body: its arguments, evaluated; those beyond the ones given are undefined. */
export type Call = (site: Site, a: unknown, b: unknown, c: unknown) => unknown;

interface Arity {
  readonly min: number;
  readonly max: number;
  /** Pure functions of constant arguments are evaluated once, at compile time. */
  readonly pure: boolean;
}

/**
 * A built-in function. `concat` takes any number of arguments and is called with them as one array.
 * A function with `prepare` has arguments (by index, `constants`) that must be constants, such as a regular
 * expression's pattern: `prepare` gets their values once, at compile time, and returns the body that runs per
 * record; `fail` reports a bad constant as a compile error at that argument.
 */
export type FunctionSpec = Arity &
  (
    | { readonly call: Call; readonly prepare?: undefined }
    | {
        readonly constants: readonly number[];
        readonly prepare: (values: readonly unknown[], fail: (index: number, message: string) => never) => Call;
      }
  );

export function str(site: Site, value: unknown, what = 'a string'): string {
  if (typeof value !== 'string') throw runtimeError(site, `expects ${what}, got ${typeName(value)}`);
  return value;
}

export function num(site: Site, value: unknown): number {
  if (typeof value !== 'number') throw runtimeError(site, `expects a number, got ${typeName(value)}`);
  return value;
}

/** An integer argument (an index, a count): a clear error for 1.5, NaN or a string. */
export function int(site: Site, value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw runtimeError(site, `expects ${what} to be an integer, got ${typeof value === 'number' ? String(value) : typeName(value)}`);
  }
  return value;
}
