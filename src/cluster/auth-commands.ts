/** The fields of the token and audit commands (`commands.ts`), and `by`, the API call any command may come from. */
import { Type } from '@sinclair/typebox';
import { ERROR_CODES } from '../core/errors.js';
import { PIPELINE_PATTERN, ROLES } from '../security/auth-tokens.js';

const At = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const NodeId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$' });
export const TokenId = Type.String({ pattern: '^[0-9a-f]{16}$' });
/** Who called, in `by` and audit entries: a Wire token's id, or `jwt:` and the subject of a JWT (`security/auth-jwt.ts`). */
const Caller = Type.String({ pattern: '^(?:[0-9a-f]{16}|jwt:[\\x21-\\x7e]{1,200})$' });
const Address = Type.String({ maxLength: 64 });
const Action = Type.String({ minLength: 1, maxLength: 300 });
const Target = Type.Union([Type.String({ maxLength: 253 }), Type.Null()]);

/** Who asked, from where, through which route: recorded in the audit entry of the command once applied. */
export const ACTOR = Type.Object(
  { node: NodeId, address: Address, token: Type.Union([Caller, Type.Null()]), role: Type.Union([Role, Type.Null()]), action: Action },
  { additionalProperties: false },
);

export const TOKEN_FIELDS = {
  id: TokenId,
  hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  role: Role,
  pipelines: Type.Union([Type.Array(Type.String({ pattern: PIPELINE_PATTERN.source }), { minItems: 1, maxItems: 64 }), Type.Null()]),
  name: Type.String({ maxLength: 200 }),
  createdBy: Type.String({ minLength: 1, maxLength: 300 }),
  expiresAt: Type.Union([At, Type.Null()]),
};

export const AUDIT_ENTRY = Type.Object(
  {
    at: At,
    node: NodeId,
    address: Address,
    token: Type.Union([Caller, Type.Null()]),
    role: Type.Union([Role, Type.Null()]),
    action: Action,
    target: Target,
    command: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    result: Type.Union([Type.Literal('ok'), ...ERROR_CODES.map((c) => Type.Literal(c))]),
    status: Type.Union([Type.Integer({ minimum: 100, maximum: 599 }), Type.Null()]),
  },
  { additionalProperties: false },
);
