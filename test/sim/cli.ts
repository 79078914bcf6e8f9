/**
 * The simulator's command line.
 *   npm run sim -- --seed 1234 [--nodes 5] [--mix NAME] [--trace]   one seed; the trace on failure (always with --trace)
 *   npm run sim -- --seeds N [--first S] [--nodes 1|2|3|5] [--mix NAME] many seeds; a JSON summary
 * Exits non-zero on any failure, printing the failing seeds and the first failure's trace.
 */
import { MIXES, type MixName } from './nemesis.js';
import { runSeed, type RunResult } from './run.js';

interface Args {
  seed?: number;
  seeds?: number;
  first: number;
  nodes?: number;
  mix?: MixName;
  trace: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { first: 1, trace: false };
  const int = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n)) throw new Error(`${name} needs an integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--seed':
        args.seed = int(a, argv[++i]);
        break;
      case '--seeds':
        args.seeds = int(a, argv[++i]);
        break;
      case '--first':
        args.first = int(a, argv[++i]);
        break;
      case '--nodes': {
        const n = int(a, argv[++i]);
        if (![1, 2, 3, 5].includes(n)) throw new Error('--nodes must be 1, 2, 3 or 5');
        args.nodes = n;
        break;
      }
      case '--mix': {
        const m = argv[++i];
        if (!MIXES.includes(m as MixName)) throw new Error(`--mix must be one of ${MIXES.join(', ')}`);
        args.mix = m as MixName;
        break;
      }
      case '--trace':
        args.trace = true;
        break;
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  if (args.seed === undefined && args.seeds === undefined) args.seeds = 100;
  return args;
}

/** Without --nodes, seeds alternate between 3 and 5 nodes. */
function nodesFor(seed: number, fixed: number | undefined): number {
  return fixed ?? (Math.floor(seed / 8) % 2 === 0 ? 3 : 5);
}

function printFailure(r: RunResult): void {
  process.stderr.write(`\nseed ${r.seed} FAILED (${r.nodes} nodes, mix ${r.mix}): ${r.failure}\n`);
  process.stderr.write(`reproduce: npm run sim -- --seed ${r.seed} --nodes ${r.nodes} --mix ${r.mix} --trace\n\n`);
  process.stderr.write(`${r.trace.join('\n')}\n`);
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.seed !== undefined) {
    const echo = args.trace ? (line: string) => process.stdout.write(`${line}\n`) : undefined;
    const r = await runSeed({ seed: args.seed, nodes: nodesFor(args.seed, args.nodes), ...(args.mix ? { mix: args.mix } : {}), ...(echo ? { echo } : {}) });
    const { trace: _trace, ...summary } = r;
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (!r.ok && !args.trace) printFailure(r);
    return r.ok ? 0 : 1;
  }
  const started = performance.now();
  const failures: RunResult[] = [];
  const byMix: Record<string, { runs: number; failed: number }> = {};
  let unknown = 0;
  let recoveryMax = 0;
  let ops = 0;
  for (let s = args.first; s < args.first + args.seeds!; s++) {
    const r = await runSeed({ seed: s, nodes: nodesFor(s, args.nodes), ...(args.mix ? { mix: args.mix } : {}) });
    const m = (byMix[`${r.mix}/${r.nodes}`] ??= { runs: 0, failed: 0 });
    m.runs++;
    ops += r.stats.ops ?? 0;
    if (r.linearizable === 'unknown') unknown++;
    if (r.recoveryMs !== null) recoveryMax = Math.max(recoveryMax, r.recoveryMs);
    if (!r.ok) {
      m.failed++;
      failures.push(r);
    }
  }
  const summary = {
    seeds: args.seeds,
    first: args.first,
    passed: args.seeds! - failures.length,
    failed: failures.map((f) => ({ seed: f.seed, nodes: f.nodes, mix: f.mix, failure: f.failure!.split('\n')[0] })),
    linearizabilityUnknown: unknown,
    operations: ops,
    maxRecoveryMs: recoveryMax,
    byMix,
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (failures.length > 0) printFailure(failures[0]!);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
