/**
 * The commands of the replicated state machine: typed, versioned (`v`), checked field by field, and
 * encoded as canonical msgpack so every node decodes the same bytes to the same command. A command of
 * an unknown version or type, with a missing, extra or ill-typed field, is INVALID_INPUT — before it is
 * proposed, and again when its entry is applied (a newer node may have proposed what this one cannot
 * read: it is rejected the same way on every node of this version).
 *
 * Timestamps (`at`, ms since the epoch) come from the proposer: applying reads no clock.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { WireError } from '../core/errors.js';
import { PIPELINE_NAME } from '../core/pipeline.js';
import { canonicalize, decodeCanonical, encodeCanonical } from './codec.js';
import { DESIRED_STATES, NODE_ROLES } from './records.js';
import { TASK_COMMAND_FIELDS as TASK } from './tasks/task-commands.js';
import { ACTOR, AUDIT_ENTRY, TOKEN_FIELDS, TokenId } from './auth-commands.js';
import { MAX_AUDIT_BATCH } from '../security/audit-records.js';

export const COMMAND_VERSION = 1;

/** Largest encoded command; a spec is a few KiB, and Raft carries control data only. */
export const MAX_COMMAND_BYTES = 1 << 20;

const At = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$' });
const Address = Type.String({ minLength: 1, maxLength: 300 });
const Name = Type.String({ pattern: PIPELINE_NAME.source });
const VersionNumber = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Desired = Type.Union(DESIRED_STATES.map((s) => Type.Literal(s)));
const Labels = Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$' }), Type.String({ maxLength: 253 }), {
  maxProperties: 64,
});
const Spec = Type.Record(Type.String(), Type.Unknown());

/** `by`: the API call a command comes from; applying it then appends that call to the audit log. */
function command<T extends string, P extends Record<string, TSchema>>(type: T, fields: P) {
  return Type.Object({ v: Type.Literal(COMMAND_VERSION), type: Type.Literal(type), ...fields, at: At, by: Type.Optional(ACTOR) }, { additionalProperties: false });
}

export const COMMAND_SCHEMAS = {
  'cluster.init': command('cluster.init', { id: Id }),
  'node.upsert': command('node.upsert', {
    node: Type.Object(
      { id: Id, raftAddress: Address, httpAddress: Address, role: Type.Union(NODE_ROLES.map((r) => Type.Literal(r))), labels: Labels },
      { additionalProperties: false },
    ),
  }),
  'node.remove': command('node.remove', { id: Id }),
  'pipeline.create': command('pipeline.create', { name: Name, spec: Spec, desired: Desired }),
  /** A new version; every earlier one is kept. `ifVersion`: CONFLICT unless the current version is this one. */
  /** `reset`: the new version's tasks start afresh, from no checkpoint of an earlier version (`update --reset`). */
  'pipeline.replace': command('pipeline.replace', { name: Name, spec: Spec, ifVersion: Type.Optional(VersionNumber), reset: Type.Optional(Type.Boolean()) }),
  'pipeline.delete': command('pipeline.delete', { name: Name, ifVersion: Type.Optional(VersionNumber) }),
  'pipeline.setDesired': command('pipeline.setDesired', { name: Name, desired: Desired }),
  /** A new version whose spec is version `to`'s. */
  'pipeline.rollback': command('pipeline.rollback', { name: Name, to: VersionNumber, ifVersion: Type.Optional(VersionNumber) }),
  'task.assign': command('task.assign', TASK['task.assign']),
  'task.drain': command('task.drain', TASK['task.drain']),
  'task.release': command('task.release', TASK['task.release']),
  'task.remove': command('task.remove', TASK['task.remove']),
  'checkpoint.commit': command('checkpoint.commit', TASK['checkpoint.commit']),
  /** A token's hash, never the token (`security/auth-tokens.ts`). The same id and hash again changes nothing. */
  'token.create': command('token.create', TOKEN_FIELDS),
  'token.revoke': command('token.revoke', { id: TokenId }),
  /** Calls a node refused before they reached Raft, batched (`security/audit-batcher.ts`). */
  'audit.append': command('audit.append', { entries: Type.Array(AUDIT_ENTRY, { minItems: 1, maxItems: MAX_AUDIT_BATCH }) }),
} as const;

type Schemas = typeof COMMAND_SCHEMAS;
export type CommandType = keyof Schemas;
export type CommandOf<T extends CommandType> = Static<Schemas[T]>;
export type ClusterCommand = { [T in CommandType]: CommandOf<T> }[CommandType];

function isCommandType(value: unknown): value is CommandType {
  return typeof value === 'string' && Object.hasOwn(COMMAND_SCHEMAS, value);
}

const checkers = new Map<CommandType, TypeCheck<TSchema>>();

function checkerOf(type: CommandType): TypeCheck<TSchema> {
  let checker = checkers.get(type);
  if (checker === undefined) checkers.set(type, (checker = TypeCompiler.Compile(COMMAND_SCHEMAS[type] as TSchema)));
  return checker;
}

/** Checks that `value` is a command of this version, naming the first bad field. */
export function parseCommand(value: unknown): ClusterCommand {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WireError('INVALID_INPUT', 'a command must be an object');
  const { v, type } = value as { v?: unknown; type?: unknown };
  if (v !== COMMAND_VERSION) {
    throw new WireError('INVALID_INPUT', `unsupported command version ${JSON.stringify(v) ?? 'undefined'} (this node reads version ${COMMAND_VERSION})`, {
      field: 'v',
    });
  }
  if (!isCommandType(type)) throw new WireError('INVALID_INPUT', `unknown command type ${JSON.stringify(type) ?? 'undefined'}`, { field: 'type' });
  const schema: TSchema = COMMAND_SCHEMAS[type];
  // Compiled once per type: every command is checked several times (proposed, forwarded, encoded, applied on each
  // node), and interpreting the schema for one node's batch of 333 task checkpoints took ~10 ms a time (compiled: 0.7 ms). The interpreter
  // runs only to name what is wrong.
  if (checkerOf(type).Check(value)) return value as ClusterCommand;
  const problem = Value.Errors(schema, value).First();
  if (problem) {
    const field = problem.path.replace(/^\//, '').replaceAll('/', '.') || '(command)';
    throw new WireError('INVALID_INPUT', `${type}: ${field}: ${problem.message}`, { field, type });
  }
  return value as ClusterCommand;
}

/** The bytes to propose: checked, canonical, within `MAX_COMMAND_BYTES`. */
export function encodeCommand(command: ClusterCommand): Buffer {
  const checked = parseCommand(command);
  const bytes = encodeCanonical(checked);
  if (bytes.length > MAX_COMMAND_BYTES) {
    throw new WireError('INVALID_INPUT', `${checked.type}: the command is ${bytes.length} bytes, over the limit of ${MAX_COMMAND_BYTES}`, {
      size: bytes.length,
      limit: MAX_COMMAND_BYTES,
    });
  }
  return bytes;
}

export function decodeCommand(bytes: Uint8Array): ClusterCommand {
  if (bytes.length > MAX_COMMAND_BYTES) throw new WireError('INVALID_INPUT', `a command of ${bytes.length} bytes is over the limit of ${MAX_COMMAND_BYTES}`);
  // Canonicalized again: msgpack holds types JSON does not (a timestamp decodes to a Date), and such a
  // command must be rejected here, not throw later while its writes are encoded.
  return parseCommand(canonicalize(decodeCanonical(bytes, 'the command')));
}
