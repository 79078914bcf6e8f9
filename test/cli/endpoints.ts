// HTTP endpoints on 127.0.0.1 (port 0) for end-to-end runs with an http sink; `closeEndpoints()` in afterEach.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const servers: Server[] = [];

/**
 * An endpoint answering each request (counted from 1) with the status `answer` gives it, or never answering
 * (`'never'`). Returns its URL and how many requests it has had.
 */
export async function endpoint(answer: number | 'never' | ((request: number) => number)): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      if (answer === 'never') return;
      res.writeHead(typeof answer === 'number' ? answer : answer(requests)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`, requests: () => requests };
}

export async function closeEndpoints(): Promise<void> {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
