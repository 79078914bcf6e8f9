// Builds the Kafka-protocol test server into the cache dir (test/harness/kafka.ts) unless it is there: `.ci/run`
// runs it before `npm test`, so no test file waits for the build. Prints the binary's path.
import { buildMockKafka } from './kafka.js';

console.log(await buildMockKafka());
