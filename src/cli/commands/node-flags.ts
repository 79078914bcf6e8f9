/**
 * `wire node`'s flags: each also read from a `WIRE_*` variable (the flag wins), checked all before anything
 * is written; a bad one is INVALID_INPUT (exit 2) naming the flag.
 */
import os from 'node:os';
import { WireError } from '../../core/errors.js';
import { parseTlsFlags, type TlsConfig } from '../../security/tls-config.js';
import { HEALTH_ACCESS, type HealthAccess } from '../../security/auth-hook.js';

/** The flags as commander hands them over: strings, or booleans for switches, undefined when absent. */
export interface NodeFlagValues {
  readonly httpAddr?: string;
  readonly httpAdvAddr?: string;
  readonly raftAddr?: string;
  readonly raftAdvAddr?: string;
  readonly nodeId?: string;
  readonly dataDir?: string;
  readonly bootstrapExpect?: string;
  readonly join?: string;
  readonly joinAttempts?: string;
  readonly joinInterval?: string;
  readonly raftNonVoter?: boolean;
  readonly raftSnapshotThreshold?: string;
  readonly raftShutdownStepdown?: boolean;
  readonly nodeLabel?: readonly string[];
  readonly restore?: string;
  readonly httpCert?: string;
  readonly httpKey?: string;
  readonly httpCa?: string;
  readonly httpVerifyClient?: boolean;
  readonly nodeCert?: string;
  readonly nodeKey?: string;
  readonly nodeCa?: string;
  readonly tlsMinVersion?: string;
  readonly taskFailoverTimeout?: string;
  readonly joinToken?: string;
  readonly healthAccess?: string;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}

export interface NodeFlags {
  readonly http: HostPort;
  readonly httpAdvertise: string | undefined;
  readonly raft: HostPort;
  readonly raftAdvertise: string | undefined;
  readonly nodeId: string;
  readonly dataDir: string;
  readonly bootstrapExpect: number;
  readonly join: readonly string[];
  readonly joinAttempts: number;
  readonly joinIntervalMs: number;
  readonly nonVoter: boolean;
  readonly snapshotThreshold: number;
  readonly shutdownStepdown: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** A backup file to start a new one-node cluster from, in an empty data dir. */
  readonly restore: string | undefined;
  readonly tls: TlsConfig;
  /** A node silent this long loses its tasks (`--task-failover-timeout`, default 2s). */
  readonly taskFailoverTimeoutMs: number;
  readonly joinToken: string | undefined;
  readonly healthAccess: HealthAccess;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Applied entries between snapshots (`--raft-snapshot-threshold`). */
export const DEFAULT_SNAPSHOT_THRESHOLD = 8192;

export const NODE_DEFAULTS = {
  httpAddr: '127.0.0.1:4001',
  raftAddr: '127.0.0.1:4002',
  dataDir: './wire-data',
  joinAttempts: 5,
  joinInterval: '3s',
  taskFailoverTimeout: '2s',
} as const;

/** A node id (and a client certificate's name): what `wire-node:<id>` may carry. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

function bad(flag: string, message: string): WireError {
  return new WireError('INVALID_INPUT', `--${flag}: ${message}`, { flag: `--${flag}` });
}

/** The flag's value, else its environment variable (`--raft-addr` → `WIRE_RAFT_ADDR`). */
export function pick(flag: string, value: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (value !== undefined) return value;
  const v = env[`WIRE_${flag.toUpperCase().replaceAll('-', '_')}`];
  return v === undefined || v === '' ? undefined : v;
}

export function switchValue(flag: string, value: boolean | undefined, env: Readonly<Record<string, string | undefined>>, fallback: boolean): boolean {
  if (value !== undefined) return value;
  const v = pick(flag, undefined, env);
  if (v === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw bad(flag, `WIRE_${flag.toUpperCase().replaceAll('-', '_')}='${v}' is not true or false`);
}

export function parseHostPort(flag: string, text: string, allowZero: boolean): HostPort {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535 || (!allowZero && port === 0)) throw bad(flag, `'${text}' is not a host:port address${allowZero ? '' : ' with a port above 0'}`);
  return { host: (m[1] ?? m[2])!, port };
}

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw bad(flag, `'${text}' is not a whole number from ${min} to ${max}`);
  return Number(text);
}

/** `500ms`, `3s`, `1m`, or a number of milliseconds. */
export function parseDurationMs(flag: string, text: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(text);
  if (!m) throw bad(flag, `'${text}' is not a duration (e.g. 500ms, 3s, 1m)`);
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
  if (ms < 1 || ms > 3_600_000) throw bad(flag, `'${text}' is out of range (1ms to 1h)`);
  return ms;
}

export function parseNodeFlags(v: NodeFlagValues, env: Readonly<Record<string, string | undefined>>): NodeFlags {
  const http = parseHostPort('http-addr', pick('http-addr', v.httpAddr, env) ?? NODE_DEFAULTS.httpAddr, true);
  const raft = parseHostPort('raft-addr', pick('raft-addr', v.raftAddr, env) ?? NODE_DEFAULTS.raftAddr, true);
  const advertised = (flag: string, value: string | undefined): string | undefined => {
    const text = pick(flag, value, env);
    if (text === undefined) return undefined;
    parseHostPort(flag, text, false);
    return text;
  };
  const nodeId = pick('node-id', v.nodeId, env) ?? os.hostname();
  if (!NODE_ID_PATTERN.test(nodeId)) throw bad('node-id', `'${nodeId}' must be 1-253 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  const dataDir = pick('data-dir', v.dataDir, env) ?? NODE_DEFAULTS.dataDir;
  if (dataDir.trim() === '') throw bad('data-dir', 'must not be empty');
  const expectText = pick('bootstrap-expect', v.bootstrapExpect, env);
  const bootstrapExpect = expectText === undefined ? 0 : integer('bootstrap-expect', expectText, 1, 9);
  const joinText = pick('join', v.join, env);
  const join = joinText === undefined ? [] : joinText.split(',').map((a) => a.trim()).filter((a) => a !== '');
  for (const a of join) parseHostPort('join', a, false);
  if (bootstrapExpect > 1 && join.length === 0) throw bad('bootstrap-expect', `forming a cluster of ${bootstrapExpect} needs --join with the other nodes' --raft-adv-addr`);
  const restore = pick('restore', v.restore, env);
  if (restore !== undefined && join.length > 0) throw bad('restore', 'a restore forms a new one-node cluster: give no --join (other nodes join it afterwards)');
  const labels: Record<string, string> = {};
  const labelTexts = v.nodeLabel ?? (pick('node-label', undefined, env)?.split(',') ?? []);
  for (const text of labelTexts) {
    const eq = text.indexOf('=');
    const key = eq < 0 ? text : text.slice(0, eq);
    if (eq < 0 || !LABEL_KEY.test(key) || text.length - eq - 1 > 253) throw bad('node-label', `'${text}' is not key=value (key: letters, digits, '.', '_', '/', '-')`);
    labels[key] = text.slice(eq + 1);
  }
  return {
    http,
    httpAdvertise: advertised('http-adv-addr', v.httpAdvAddr),
    raft,
    raftAdvertise: advertised('raft-adv-addr', v.raftAdvAddr),
    nodeId,
    dataDir,
    bootstrapExpect,
    join,
    joinAttempts: integer('join-attempts', pick('join-attempts', v.joinAttempts, env) ?? String(NODE_DEFAULTS.joinAttempts), 1, 1_000_000),
    joinIntervalMs: parseDurationMs('join-interval', pick('join-interval', v.joinInterval, env) ?? NODE_DEFAULTS.joinInterval),
    nonVoter: switchValue('raft-non-voter', v.raftNonVoter, env, false),
    snapshotThreshold: integer('raft-snapshot-threshold', pick('raft-snapshot-threshold', v.raftSnapshotThreshold, env) ?? String(DEFAULT_SNAPSHOT_THRESHOLD), 1, 100_000_000),
    shutdownStepdown: switchValue('raft-shutdown-stepdown', v.raftShutdownStepdown, env, true),
    labels,
    restore,
    tls: parseTlsFlags({
      'http-cert': pick('http-cert', v.httpCert, env),
      'http-key': pick('http-key', v.httpKey, env),
      'http-ca': pick('http-ca', v.httpCa, env),
      'http-verify-client': switchValue('http-verify-client', v.httpVerifyClient, env, false),
      'node-cert': pick('node-cert', v.nodeCert, env),
      'node-key': pick('node-key', v.nodeKey, env),
      'node-ca': pick('node-ca', v.nodeCa, env),
      'tls-min-version': pick('tls-min-version', v.tlsMinVersion, env),
    }),
    taskFailoverTimeoutMs: parseDurationMs('task-failover-timeout', pick('task-failover-timeout', v.taskFailoverTimeout, env) ?? NODE_DEFAULTS.taskFailoverTimeout),
    joinToken: pick('join-token', v.joinToken, env),
    healthAccess: healthAccess(pick('health-access', v.healthAccess, env) ?? 'loopback'),
  };
}

function healthAccess(text: string): HealthAccess {
  if (!(HEALTH_ACCESS as readonly string[]).includes(text)) throw bad('health-access', `'${text}' is not one of ${HEALTH_ACCESS.join(', ')}`);
  return text as HealthAccess;
}
