import type { WireRecord } from '../../core/record.js';

/** One record as a bulk operation: where it goes and the two NDJSON lines that say so. */
export interface BulkItem {
  readonly record: WireRecord;
  readonly index: string;
  readonly id: string | undefined;
  /** The action line and the source line, each ending in a newline. */
  readonly lines: string;
}

export type BulkAction = 'index' | 'create' | 'update';

/** The NDJSON of one operation. `update` sends the record as a partial document and creates it when missing. */
export function bulkLines(action: BulkAction, index: string, id: string | undefined, json: string): string {
  const target = id === undefined ? `{"_index":${JSON.stringify(index)}}` : `{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}`;
  const source = action === 'update' ? `{"doc":${json},"doc_as_upsert":true}` : json;
  return `{"${action}":${target}}\n${source}\n`;
}

/** What Elasticsearch said about one item of a bulk request (`items[i]`, under its action's name). */
export interface ItemResult {
  readonly status: number;
  readonly _id?: unknown;
  readonly error?: { readonly type?: string; readonly reason?: string } | string;
}

/** The items of a bulk answer, sorted by what the sink does next. */
export interface BulkOutcome {
  /** Too many requests (429): sent again, alone, after a backoff. */
  readonly retry: BulkItem[];
  /** Refused for good (a mapping error, a bad document): for `on_error`, with the first reason. */
  readonly refused: BulkItem[];
  readonly firstReason: string | undefined;
}

/**
 * Sorts a bulk answer. 2xx is written; 409 to `create` means the document is there already (a replay of a record
 * written before a crash), which is what the sink wanted; 429 is retried; anything else is refused.
 */
export function sortItems(action: BulkAction, items: readonly BulkItem[], results: readonly Record<string, ItemResult>[]): BulkOutcome {
  const retry: BulkItem[] = [];
  const refused: BulkItem[] = [];
  let firstReason: string | undefined;
  // An answer without an items list (a broken proxy, a lying server) says nothing of any item: all are refused.
  let answered: readonly unknown[] = Array.isArray(results) ? results : [];
  // More results than items sent: the answer is not this request's, and says nothing of any item.
  if (answered.length > items.length) {
    firstReason = `the bulk answer has ${answered.length} items for ${items.length} sent`;
    answered = [];
  }
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const entry = answered[i] as Record<string, ItemResult> | null | undefined;
    const result = entry === undefined || entry === null || typeof entry !== 'object' ? undefined : Object.values(entry)[0];
    if (result === undefined || result === null || typeof result !== 'object' || typeof result.status !== 'number') {
      // An answer with fewer items than were sent says nothing of the rest: refusing them keeps them in sight.
      refused.push(item);
      firstReason ??= `no result for item ${i} in the bulk answer`;
      continue;
    }
    // Results come in the order of the request: one naming another document is not this item's.
    if (item.id !== undefined && result._id !== undefined && result._id !== item.id) {
      refused.push(item);
      firstReason ??= `the bulk answer's item ${i} names document ${String(result._id)}, not ${item.id}`;
      continue;
    }
    const { status } = result;
    if ((status >= 200 && status < 300) || (status === 409 && action === 'create')) continue;
    if (status === 429) {
      retry.push(item);
      continue;
    }
    refused.push(item);
    firstReason ??= `${item.index}/${item.id ?? '(auto id)'}: ${status} ${reasonOf(result)}`;
  }
  return { retry, refused, firstReason };
}

function reasonOf(result: ItemResult): string {
  const { error } = result;
  if (error === undefined) return '';
  if (typeof error === 'string') return error;
  return [error.type, error.reason].filter((part) => part !== undefined).join(': ');
}
