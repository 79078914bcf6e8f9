// `wire node` hands its security flags to the API it serves: --allow-path, --cors-origin, --http-body-limit.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { http, NodeProcesses, until } from '../cluster/node/processes.js';

const nodes = new NodeProcesses();
afterEach(async () => nodes.stopAll());

const fileToStdout = (name: string, file: string) => `name: ${name}\nsource:\n  type: file\n  config:\n    path: ${file}\nsink:\n  type: stdout\n`;

describe('wire node security flags', () => {
  it('confines pipelines to --allow-path, answers only --cors-origin origins, and limits bodies to --http-body-limit', async () => {
    const allowed = path.join(await nodes.dir(), 'in');
    await mkdir(allowed);
    await writeFile(path.join(allowed, 'a.jsonl'), '{}\n');
    const node = await nodes.start('s1', ['--allow-path', allowed, '--cors-origin', 'https://ui.example.com', '--http-body-limit', '2KiB']);
    await until('ready', async () => (await http(node, 'GET', '/readyz')).status === 200);

    const refused = await http(node, 'POST', '/v1/pipelines', fileToStdout('secret', '/etc/passwd'));
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FORBIDDEN', details: { rule: '--allow-path' } });
    const created = await http(node, 'POST', '/v1/pipelines', fileToStdout('mine', path.join(allowed, 'a.jsonl')));
    expect(created.status).toBe(201);

    const cors = await fetch(`http://${node.http}/v1/cluster`, { headers: { origin: 'https://ui.example.com' } });
    expect(cors.headers.get('access-control-allow-origin')).toBe('https://ui.example.com');
    expect(cors.headers.get('x-content-type-options')).toBe('nosniff');
    const big = await http(node, 'POST', '/v1/pipelines/validate', `# ${'x'.repeat(4096)}\n${fileToStdout('big', path.join(allowed, 'a.jsonl'))}`);
    expect(big.status).toBe(413);
  }, 60_000);
});
