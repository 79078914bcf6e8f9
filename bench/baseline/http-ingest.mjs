// Hand-written baseline for the http source: node http-ingest.mjs OUT PORT
// A Node HTTP server that takes JSON lines by POST, checks each line is JSON, appends the body to OUT and answers
// once an fdatasync covers it; requests that arrive during a sync share the next one (a group commit).
// Prints {"listening":PORT} once ready; exits on SIGTERM.
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import http from 'node:http';
import process from 'node:process';

const [, , output, port] = process.argv;
const fd = fs.openSync(output, 'w');
let waiting = [];
let syncing = false;

function sync() {
  if (syncing || waiting.length === 0) return;
  syncing = true;
  const covered = waiting;
  waiting = [];
  fs.fdatasync(fd, (err) => {
    syncing = false;
    for (const { res, count } of covered) {
      res.writeHead(err ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(err ? { error: String(err) } : { accepted: count }));
    }
    sync();
  });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    let count = 0;
    try {
      for (const line of body.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        JSON.parse(line);
        count++;
      }
    } catch {
      res.writeHead(400).end();
      return;
    }
    fs.writeSync(fd, body);
    waiting.push({ res, count });
    sync();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(JSON.stringify({ listening: Number(port) }) + '\n'));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  fs.closeSync(fd);
  process.exit(0);
});
