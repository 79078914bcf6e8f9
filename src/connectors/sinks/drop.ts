import { Type } from '@sinclair/typebox';
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
