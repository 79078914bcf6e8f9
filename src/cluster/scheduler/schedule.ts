/**
 * The scheduler: a pure function of (live nodes, tasks that should run) → the moves to make. It keeps every
 * task where it runs if that node is live and allowed, places the others on the allowed node with the fewest
 * tasks, then moves tasks from the fullest to the emptiest allowed node until no move would narrow the gap:
 * balanced by count, moving as few running tasks as it can. Ties break by id, so every leader decides alike.
 */

export interface Placement {
  /** Only this node may run the task. */
  readonly node?: string;
  /** Only nodes with every one of these labels may run the task. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface SchedulerNode {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface SchedulerTask {
  readonly id: string;
  readonly placement?: Placement;
  /** The node it runs on now (live or not), or null. */
  readonly current: string | null;
}

/** Task `task` goes from `from` to `to`; `to` is null when no live node may run it. */
export interface Move {
  readonly task: string;
  readonly from: string | null;
  readonly to: string | null;
}

export function allows(node: SchedulerNode, placement: Placement | undefined): boolean {
  if (placement === undefined) return true;
  if (placement.node !== undefined && placement.node !== node.id) return false;
  for (const [k, v] of Object.entries(placement.labels ?? {})) if (node.labels[k] !== v) return false;
  return true;
}

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function schedule(nodes: readonly SchedulerNode[], tasks: readonly SchedulerTask[]): Move[] {
  const sortedNodes = [...nodes].sort(byId);
  const eligible = new Map<string, string[]>();
  for (const t of tasks) eligible.set(t.id, sortedNodes.filter((n) => allows(n, t.placement)).map((n) => n.id));
  const count = new Map(sortedNodes.map((n) => [n.id, 0]));
  const target = new Map<string, string | null>();
  const put = (task: string, node: string | null): void => {
    const before = target.get(task);
    if (before) count.set(before, count.get(before)! - 1);
    target.set(task, node);
    if (node) count.set(node, count.get(node)! + 1);
  };
  const least = (ids: readonly string[]): string | null => {
    let best: string | null = null;
    for (const id of ids) if (best === null || count.get(id)! < count.get(best)!) best = id;
    return best;
  };

  for (const t of tasks) if (t.current !== null && eligible.get(t.id)!.includes(t.current)) put(t.id, t.current);
  // The most constrained first, so a task with one allowed node is not crowded out by one that could go anywhere.
  const unplaced = tasks.filter((t) => !target.has(t.id)).sort((a, b) => eligible.get(a.id)!.length - eligible.get(b.id)!.length || byId(a, b));
  for (const t of unplaced) put(t.id, least(eligible.get(t.id)!));

  // Each move lowers the sum of squared counts, so this ends; at most one pass per task is ever needed.
  const sorted = [...tasks].sort(byId);
  for (let guard = tasks.length * tasks.length + 1; guard > 0; guard--) {
    let best: { task: SchedulerTask; to: string; gain: number } | undefined;
    for (const t of sorted) {
      const from = target.get(t.id);
      if (!from) continue;
      const to = least(eligible.get(t.id)!);
      if (to === null || count.get(from)! - count.get(to)! < 2) continue;
      // Prefer the widest gap, then a task that is not running there yet (moving it costs nothing).
      const gain = (count.get(from)! - count.get(to)!) * 2 + (t.current === from ? 0 : 1);
      if (!best || gain > best.gain) best = { task: t, to, gain };
    }
    if (!best) break;
    put(best.task.id, best.to);
  }

  const moves: Move[] = [];
  for (const t of tasks) {
    const to = target.get(t.id) ?? null;
    if (to !== t.current) moves.push({ task: t.id, from: t.current, to });
  }
  return moves;
}
