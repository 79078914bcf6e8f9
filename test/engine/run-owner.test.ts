import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { currentOwner, isRunning } from '../../src/engine/run-owner.js';

describe('the owner of a running pipeline', () => {
  it('a live process on this host is running', () => {
    const parent = { pid: process.ppid, host: hostname(), since: 0 };
    expect(isRunning(parent)).toBe(true);
  });

  it('an exited process is not running', () => {
    const child = spawnSync(process.execPath, ['-e', '0']);
    expect(isRunning({ pid: child.pid!, host: hostname(), since: 0 })).toBe(false);
  });

  it('a pid now held by another process (another start time) is not the run', () => {
    const me = currentOwner(0);
    expect(me.started).toBeDefined();
    expect(isRunning({ pid: process.ppid, host: hostname(), started: `${me.started!}0`, since: 0 })).toBe(false);
  });

  it('a process on another host cannot be looked at: it counts as running', () => {
    expect(isRunning({ pid: 1, host: `${hostname()}-elsewhere`, since: 0 })).toBe(true);
  });
});
