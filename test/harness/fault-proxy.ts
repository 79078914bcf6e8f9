// An HTTP proxy on 127.0.0.1 in front of a test server, for answers no real server can be made to give on demand:
// each request is first shown to `fault`, which may answer it itself (a 503, a 200 that lies); otherwise it goes
// to the server as it came and the server's answer comes back as it was.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Answers a request instead of the server (`undefined`: forward it). Its body is read already. */
  fault: ((req: IncomingMessage, body: Buffer) => FaultAnswer | undefined) | undefined;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const proxy: FaultProxy = { url: '', fault: undefined, close: () => new Promise((resolve) => server.close(() => resolve())) };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const answer = proxy.fault?.(req, body);
      if (answer !== undefined) {
        res.writeHead(answer.status, { 'content-type': 'application/xml', ...answer.headers });
        res.end(answer.body);
        return;
      }
      const upstream = request({ host: hostname, port, method: req.method, path: req.url, headers: req.headers }, (answered) => {
        res.writeHead(answered.statusCode ?? 502, answered.headers);
        answered.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  (proxy as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = proxy.close;
  proxy.close = async () => {
    server.closeAllConnections();
    await close();
  };
  return proxy;
}
