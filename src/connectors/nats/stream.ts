import { Type } from '@sinclair/typebox';
import type { JetStreamManager } from '@nats-io/jetstream';
import { WireError } from '../../core/errors.js';

/** The stream fields the nats source and the JetStream sink share. */
export const streamSubjectsField = Type.Optional(
  Type.Array(Type.String({ minLength: 1 }), {
    minItems: 1,
    description: 'When the stream does not exist, it is created (file storage) to capture these subjects; without them a missing stream is an error.',
  }),
);

/** True when `error` is JetStream's "stream not found" answer. */
export function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error.name === 'StreamNotFoundError' || error.name === 'ConsumerNotFoundError' || /not found/i.test(error.message));
}

/** Makes sure `stream` exists: creates it with `subjects` when missing, or fails NOT_FOUND naming the stream. */
export async function ensureStream(jsm: JetStreamManager, stream: string, subjects: readonly string[] | undefined): Promise<void> {
  try {
    await jsm.streams.info(stream);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (subjects === undefined) {
    throw new WireError('NOT_FOUND', `nats stream ${stream} does not exist (set stream_subjects to create it)`, { stream });
  }
  const { StorageType } = await import('@nats-io/jetstream');
  await jsm.streams.add({ name: stream, subjects: [...subjects], storage: StorageType.File });
}
