import { Type } from '@sinclair/typebox';
import type { LineFormat } from '../../core/line-block.js';
import type { ComponentDefinition, Sink } from '../../core/ports.js';
import type { Batch } from '../../core/record.js';
import { resolveConfig } from '../config.js';

export const DropSinkSchema = Type.Object({}, { additionalProperties: false });

/** Discards every record (for benchmarks and dry runs); counts them so a run can still report totals. */
export class DropSink implements Sink {
  dropped = 0;

  async open(): Promise<void> {}

  async write(batch: Batch): Promise<void> {
    this.dropped += batch.length;
  }

  /** Takes line blocks too (so it measures what a line sink gets); `lines` lets any line source pass as read. */
  lineFormat(): LineFormat {
    return 'lines';
  }

  async writeLines(_chunks: readonly Uint8Array[], count: number): Promise<void> {
    this.dropped += count;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}

export const dropSinkDefinition: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'drop',
  description: 'Discards every record. Useful for benchmarks and for trying out a source and transforms.',
  schema: DropSinkSchema,
  example: {},
  create: (config) => {
    resolveConfig('drop sink', DropSinkSchema, config);
    return new DropSink();
  },
};
