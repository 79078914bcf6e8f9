// Runs the protocol-level MongoDB fake (test/harness/mongodb.ts) in a process of its own, so that the bench's bare
// driver and `wire run` both pay for a server on the other side of a socket, not in their own event loop.
// Prints `URL=mongodb://127.0.0.1:PORT/?directConnection=true` once listening; ends on SIGTERM.
import { startFakeMongo } from '../../test/harness/mongodb.js';

const fake = await startFakeMongo();
process.stdout.write(`URL=${fake.url}\n`);
process.on('SIGTERM', () => {
  void fake.close().then(() => process.exit(0));
});
