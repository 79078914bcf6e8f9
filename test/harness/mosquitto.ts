// A real Mosquitto for tests (Debian's mosquitto, 2.0 here), on 127.0.0.1 with persistence in a temp dir: a
// restart by SIGTERM saves the sessions and their queued messages, and the new process loads them. Its queues are
// unbounded (mosquitto's default drops what is queued for a client past 1,000 messages).
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, serverAvailable, spawnServer, stopPid, tempDataDir, waitUntil, serverHandle, type TestServer } from './servers.js';

export const MOSQUITTO = { path: 'mosquitto', aptPackage: 'mosquitto' } as const;

/** Call at a test file's top: whether mosquitto is here (see `serverAvailable`). */
export const mosquittoAvailable = (): ReturnType<typeof serverAvailable> => serverAvailable(MOSQUITTO);

export interface MosquittoServer extends TestServer {
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
}

/** Answers an MQTT 3.1.1 CONNECT with a CONNACK (0x20): the broker is up. */
async function connacks(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000, () => socket.destroy());
    // CONNECT, protocol MQTT level 4, clean session, keepalive 10 s, client id "probe".
    const connectPacket = Buffer.from([0x10, 17, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 10, 0, 5, 0x70, 0x72, 0x6f, 0x62, 0x65]);
    socket.on('connect', () => socket.write(connectPacket));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d[0] === 0x20);
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

/** `maxPacketSize`: the broker's `max_packet_size` in bytes (unlimited by default; MQTT 5 clients learn it from the CONNACK). */
export async function startMosquitto(options: { maxPacketSize?: number } = {}): Promise<MosquittoServer> {
  const port = await freePort();
  const dataDir = await tempDataDir('mosquitto');
  const conf = join(dataDir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dataDir}/`,
      'max_queued_messages 0',
      'max_inflight_messages 0',
      'user root',
      `log_dest file ${join(dataDir, 'mosquitto.log')}`,
      ...(options.maxPacketSize === undefined ? [] : [`max_packet_size ${options.maxPacketSize}`]),
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = spawnServer(MOSQUITTO.path, ['-c', conf], dataDir);
    await waitUntil(`mosquitto on ${port}`, () => connacks(port), 20_000);
  };
  // SIGTERM: mosquitto writes its persistence file and exits.
  const halt = async (): Promise<void> => {
    if (child?.pid !== undefined) await stopPid(child.pid, 'SIGTERM', 20_000);
    child = undefined;
  };
  await launch();
  return serverHandle({ port, dataDir }, { pid: () => child?.pid ?? -1, launch, halt }, { url: `mqtt://127.0.0.1:${port}` });
}
