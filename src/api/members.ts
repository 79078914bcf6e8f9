/** The cluster's members as the API shows them: Raft's view (voter, reachable, leader) with the state's record (role, labels). */
import type { ClusterHandle, MemberStatus } from '../cluster/handle.js';
import { listNodes } from '../cluster/queries.js';
import type { NodeRecord } from '../cluster/records.js';

export interface MemberView extends MemberStatus {
  readonly role: NodeRecord['role'] | null;
  readonly labels: Readonly<Record<string, string>>;
}

export async function members(handle: ClusterHandle, options: { consistent?: boolean }): Promise<MemberView[]> {
  const records = new Map((await handle.read(listNodes, options)).map((n) => [n.id, n]));
  return handle
    .status()
    .members.map((m) => {
      const record = records.get(m.id);
      return { ...m, httpAddress: m.httpAddress === '' ? (record?.httpAddress ?? '') : m.httpAddress, role: record?.role ?? null, labels: record?.labels ?? {} };
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
