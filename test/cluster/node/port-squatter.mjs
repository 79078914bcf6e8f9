// `node --import ./port-squatter.mjs …`: whenever a TCP server on 127.0.0.1 closes, another one takes its port at
// once (as a busy machine's next process may). A process that chose a port by listening on 0 and closing, to
// listen on it again later, then finds it taken.
import net from 'node:net';

const close = net.Server.prototype.close;
net.Server.prototype.close = function squat(...args) {
  const address = this.address();
  if (address !== null && typeof address === 'object' && address.address === '127.0.0.1') {
    const squatter = net.createServer();
    squatter.on('error', () => undefined);
    squatter.listen(address.port, '127.0.0.1');
    squatter.unref();
  }
  return close.apply(this, args);
};
