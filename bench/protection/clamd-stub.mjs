// Benchmark only (bench/protection, BENCH_CLAMD=stub): a stand-in for clamd that does no scanning,
// so a run measures the full protection set "excluding clamd's own CPU", as the target asks.
// It speaks what Pochta's clamav plugin sends (clamd(8): zIDSESSION, zINSTREAM with 4-byte length
// frames ending in a zero frame, zPING, zEND): it reads every byte of every message and answers
// "stream: OK" ("<n>: stream: OK" inside a session), so the plugin's side does all its usual work.
// Not a test double: tests use a real clamd (core/testing/clamd.ts).
//
// Usage: node bench/protection/clamd-stub.mjs PORT   (prints "listening" when ready)
import net from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: clamd-stub.mjs PORT');
const MAX_STREAM = 64 * 1024 * 1024;

const server = net.createServer((sock) => {
  let buf = Buffer.alloc(0);
  let session = false;
  let requests = 0;
  /** Inside an INSTREAM: bytes of the current frame still to skip, or -1 between frames. */
  let left = -1;
  let inStream = false;
  let streamed = 0;
  const reply = (text) => sock.write(session ? `${requests}: ${text}\0` : `${text}\0`);
  sock.on('error', () => sock.destroy());
  sock.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (left > 0) {
        const take = Math.min(left, buf.length);
        buf = buf.subarray(take);
        left -= take;
        if (left > 0) return;
        left = -1;
      }
      if (inStream) {
        if (buf.length < 4) return;
        const len = buf.readUInt32BE(0);
        buf = buf.subarray(4);
        if (len === 0) {
          inStream = false;
          reply('stream: OK');
          if (!session) return sock.end();
          continue;
        }
        streamed += len;
        if (streamed > MAX_STREAM) {
          reply('INSTREAM size limit exceeded. ERROR');
          return sock.destroy();
        }
        left = len;
        continue;
      }
      const end = buf.indexOf(0);
      if (end < 0) return;
      const command = buf.subarray(0, end).toString('latin1');
      buf = buf.subarray(end + 1);
      if (command === 'zIDSESSION') session = true;
      else if (command === 'zEND') return sock.end();
      else if (command === 'zPING') {
        requests++;
        reply('PONG');
      } else if (command === 'zINSTREAM') {
        requests++;
        inStream = true;
        streamed = 0;
        left = -1;
      } else {
        requests++;
        reply('UNKNOWN COMMAND');
      }
    }
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
