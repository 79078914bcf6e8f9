import { Type, type Static } from '@sinclair/typebox';

const LSN = '^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$';

export const PostgresCdcSourceSchema = Type.Object(
  {
    dsn: Type.String({
      // A `${...}` reference is resolved later (on load, or on the node that runs the task).
      pattern: '^(postgres(ql)?://|\\$\\{)',
      'x-wire-secret': true,
      description:
        'The database, as `postgres://user[:password]@host:port/database`. The user needs the REPLICATION attribute (or to be a superuser), ' +
        'SELECT on the tables, and CREATE on the database when the publication is created here.',
    }),
    password: Type.Optional(Type.String({ 'x-wire-secret': true, description: 'The password, when it is not in the dsn (e.g. `${file:/run/secrets/pg}`).' })),
    tables: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'The tables to capture (`schema.table`; `public` when no schema is given). Each needs a primary key or REPLICA IDENTITY FULL.',
    }),
    publication: Type.Optional(
      Type.String({
        pattern: '^[a-z_][a-z0-9_]{0,62}$',
        description: 'The publication to stream; by default `wire_` and the pipeline\'s name (`-` as `_`).',
      }),
    ),
    create_publication: Type.Boolean({
      default: true,
      description:
        'Create the publication `FOR TABLE` the tables when it does not exist. `false`: it must exist (made by a DBA) and publish every table.',
    }),
    slot: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9_]{1,63}$',
        description:
          'The replication slot; by default `wire_` and the pipeline\'s name (`-` as `_`). Created when missing; it survives restarts and keeps the WAL from the last confirmed position, so drop it (`SELECT pg_drop_replication_slot(...)`) when the pipeline is retired.',
      }),
    ),
    snapshot: Type.Boolean({
      default: true,
      description: 'Read the tables\' rows first (op `snapshot`), consistent with the slot: the stream goes on from exactly where the snapshot stands. `false`: only changes from the slot\'s creation on.',
    }),
    end_lsn: Type.Optional(
      Type.String({
        pattern: LSN,
        description: 'Stop once the stream reaches this WAL position (like `pg_recvlogical --endpos`): a finite run, e.g. `SELECT pg_current_wal_lsn()` taken before.',
      }),
    ),
    max_buffered: Type.Integer({
      minimum: 1,
      default: 8192,
      description: 'Most changes decoded and waiting for the engine: past it the source stops reading the replication stream until the engine catches up.',
    }),
    status_interval: Type.Integer({
      minimum: 100,
      default: 10_000,
      description: 'Milliseconds between two standby status updates (the confirmed position, and a heartbeat below the server\'s `wal_sender_timeout`).',
    }),
    reconnect_attempts: Type.Integer({
      minimum: 0,
      default: 20,
      description: 'Connections tried again, with backoff (doubling from 100 ms up to 2 s), when the server is unreachable or restarting, before the run fails.',
    }),
  },
  { additionalProperties: false },
);

export type PostgresCdcSourceConfig = Static<typeof PostgresCdcSourceSchema>;

/** A name Postgres takes for a slot or publication, from a pipeline's (`[a-z0-9-_]`, at most 63 bytes). */
export function defaultName(pipeline: string): string {
  return `wire_${pipeline.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}
