/**
 * The scheduler simulation's command line.
 *   npm run sim:cluster -- --seed 1234 [--trace]     one seed; its trace on failure (always with --trace)
 *   npm run sim:cluster -- --seeds N [--first S]     many seeds; a JSON summary
 * Exits non-zero on any failure, printing the failing seeds and the first failure's trace.
 */
import { runSeed, type RunResult } from './run.js';

interface Args {
  seed?: number;
  seeds: number;
  first: number;
  trace: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: 100, first: 1, trace: false };
  const int = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n)) throw new Error(`${name} needs an integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--seed') args.seed = int(a, argv[++i]);
    else if (a === '--seeds') args.seeds = int(a, argv[++i]);
    else if (a === '--first') args.first = int(a, argv[++i]);
    else if (a === '--trace') args.trace = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

function printFailure(r: RunResult): void {
  process.stderr.write(`\nseed ${r.seed} FAILED: ${r.failure}\nreproduce: npm run sim:cluster -- --seed ${r.seed} --trace\n\n${r.trace.join('\n')}\n`);
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.seed !== undefined) {
    const echo = args.trace ? (line: string) => process.stdout.write(`${line}\n`) : undefined;
    const r = await runSeed({ seed: args.seed, ...(echo ? { echo } : {}) });
    const { trace: _trace, ...summary } = r;
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (!r.ok && !args.trace) printFailure(r);
    return r.ok ? 0 : 1;
  }
  const failed: RunResult[] = [];
  let commits = 0;
  let writes = 0;
  let overlaps = 0;
  for (let seed = args.first; seed < args.first + args.seeds; seed++) {
    const r = await runSeed({ seed });
    commits += r.commits;
    writes += r.writes;
    overlaps += r.overlapsChecked;
    if (!r.ok) {
      failed.push(r);
      process.stderr.write(`seed ${seed}: ${r.failure}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify({ seeds: args.seeds, first: args.first, failed: failed.map((r) => r.seed), commits, writes, overlapsChecked: overlaps }, null, 2)}\n`);
  if (failed.length > 0) printFailure(failed[0]!);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
