// Runs the protocol-level Elasticsearch fake (test/harness/elasticsearch.ts) in a process of its own, so that the
// bench's bare client and `wire run` both pay for a server on the other side of a socket, not in their own loop.
// Prints `URL=http://127.0.0.1:PORT` once listening; ends on SIGTERM.
import { startFakeElasticsearch } from '../../test/harness/elasticsearch.js';

const fake = await startFakeElasticsearch();
process.stdout.write(`URL=${fake.url}\n`);
process.on('SIGTERM', () => {
  void fake.close().then(() => process.exit(0));
});
