/** The TypeBox schemas of the API's requests and answers: they validate at the boundary and make `/docs/json`. */
import { Type, type TSchema } from '@sinclair/typebox';
import { ERROR_CODES } from '../core/errors.js';
import { PIPELINE_NAME } from '../core/pipeline.js';
import { DESIRED_STATES, NODE_ROLES, VERSION_ORIGINS } from '../cluster/records.js';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: literals(ERROR_CODES),
      message: Type.String(),
      details: Type.Record(Type.String(), Type.Unknown()),
    }),
  },
  { $id: 'Error' },
);

/** Responses every route may give besides its own: the error shape under each status it can have. */
export const errorResponses = (...statuses: number[]): Record<number, TSchema> =>
  Object.fromEntries([400, 500, ...statuses].map((s) => [s, Type.Ref('Error')]));

export const PipelineName = Type.String({ pattern: PIPELINE_NAME.source, description: 'lowercase letters, digits, _ and -; at most 63' });
export const NameParams = Type.Object({ name: PipelineName });
export const NodeIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 253 }) });
export const Desired = literals(DESIRED_STATES);
const Millis = Type.Integer({ description: 'milliseconds since the epoch' });
const Spec = Type.Record(Type.String(), Type.Unknown(), { description: 'the validated pipeline, as `wire run` reads it' });

export const Pipeline = Type.Object(
  { name: Type.String(), version: Type.Integer({ minimum: 1 }), desired: Desired, spec: Spec, createdAt: Millis, updatedAt: Millis },
  { $id: 'Pipeline' },
);

export const PipelineVersion = Type.Object(
  { version: Type.Integer({ minimum: 1 }), origin: literals(VERSION_ORIGINS), from: Type.Optional(Type.Integer()), reset: Type.Optional(Type.Literal(true)), spec: Spec, createdAt: Millis },
  { $id: 'PipelineVersion' },
);

export const Member = Type.Object(
  {
    id: Type.String(),
    raftAddress: Type.String(),
    httpAddress: Type.String(),
    role: Type.Union([literals(NODE_ROLES), Type.Null()], { description: 'as recorded in the state; null if not recorded yet' }),
    voter: Type.Boolean(),
    reachable: Type.Boolean(),
    leader: Type.Boolean(),
    labels: Type.Record(Type.String(), Type.String()),
  },
  { $id: 'Member' },
);

/** Query options of every read. */
export const ReadQuery = Type.Object({
  consistent: Type.Optional(Type.Boolean({ description: 'linearizable: wait for ReadIndex through the leader' })),
});

/** `?redirect` (present, or any value but `false`): a follower answers 307 to the leader instead of forwarding. */
const Redirect = Type.Optional(Type.String({ description: 'answer 307 to the leader instead of forwarding the write' }));
const IfVersion = Type.Optional(Type.Integer({ minimum: 1, description: 'CONFLICT unless the current version is this one' }));

export const WriteQuery = Type.Object({ redirect: Redirect });
export const VersionedWriteQuery = Type.Object({ redirect: Redirect, ifVersion: IfVersion });
export const CreateQuery = Type.Object({ redirect: Redirect, desired: Type.Optional(Desired) });

export const RollbackBody = Type.Object({ to: Type.Integer({ minimum: 1 }), ifVersion: IfVersion }, { additionalProperties: false });
export const TransferBody = Type.Object({ to: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false });

export const Problem = Type.Object({ line: Type.Integer(), column: Type.Integer(), path: Type.String(), message: Type.String() });

/** A pipeline file in the body: YAML (or JSON) text, read by the same loader as `wire validate`. */
export const PipelineText = Type.String({ description: 'a pipeline file (YAML or JSON) describing one pipeline' });

/** Shared schemas, registered once so routes and the OpenAPI document refer to them by `$ref`. */
export const SHARED_SCHEMAS = [ErrorBody, Pipeline, PipelineVersion, Member];
