// Benchmark reference only (bench/smtp): the floor the issue names — "a bare smtp-server that only
// fsyncs". smtp-server (the library Pochta's SMTP listener is built on) with nothing else: no hooks,
// no config, no logging, no Received header; recipients @bench.test accepted; each message written
// Maildir-style before 250 with the same durability as Pochta and the Haraka plugin: tmp/<name>
// (O_EXCL), fsync(file), close, rename into new/, fsync(new/). The library's fixed 100 ms pause before
// the greeting is removed, as Pochta's config does (shared/notes/library-probes.md).
//
// Usage: node bench/smtp/bare-server.mjs PORT MAILDIR
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const [portArg, root] = process.argv.slice(2);
if (!portArg || !root) throw new Error('usage: bare-server.mjs PORT MAILDIR');
const tmpDir = path.join(root, 'tmp');
const newDir = path.join(root, 'new');
for (const d of [tmpDir, newDir, path.join(root, 'cur')]) fs.mkdirSync(d, { recursive: true });
const newDirFd = fs.openSync(newDir, 'r');
const host = os.hostname().replace(/[/:]/g, '_');
let seq = 0;

// The probe's patch: greet as soon as the socket is set up (keeps the maxClients check).
SMTPConnection.prototype.init = function init() {
  this._setListeners(() => {
    if (this._server.options.maxClients && this._server.connections.size > this._server.options.maxClients)
      return this.send(421, this.name + ' Too many connected clients, try again in a moment', false);
    this.connectionReady();
  });
};

function store(stream, done) {
  const name = `${Date.now()}.P${process.pid}Q${++seq}.${host}`;
  const tmp = path.join(tmpDir, name);
  const fail = (err) => fs.unlink(tmp, () => done(Object.assign(new Error('write failed'), { responseCode: 451 })));
  stream.on('error', fail);
  fs.open(tmp, 'wx', 0o600, (err, fd) => {
    if (err) return fail(err);
    const ws = fs.createWriteStream(null, { fd, autoClose: false });
    ws.on('error', (e) => fs.close(fd, () => fail(e)));
    ws.on('finish', () => {
      if (stream.sizeExceeded) return fs.close(fd, () => fail(new Error('too big')));
      fs.fsync(fd, (e1) => fs.close(fd, (e2) => {
        if (e1 || e2) return fail(e1 || e2);
        fs.rename(tmp, path.join(newDir, name), (e3) => {
          if (e3) return fail(e3);
          fs.fsync(newDirFd, (e4) => (e4 ? fail(e4) : done(null, `queued as ${name}`)));
        });
      }));
    });
    stream.pipe(ws);
  });
}

const server = new SMTPServer({
  name: 'bare-bench.localdomain',
  banner: 'ready',
  logger: false,
  disabledCommands: ['AUTH', 'STARTTLS'],
  authOptional: true,
  size: 50 * 1024 * 1024,
  onRcptTo(address, _session, cb) {
    if (address.address.toLowerCase().endsWith('@bench.test')) return cb();
    cb(Object.assign(new Error('no such user here'), { responseCode: 550 }));
  },
  onData(stream, _session, cb) {
    store(stream, cb);
  },
});
server.on('error', (err) => console.error(`bare-server: ${err.message}`));
server.listen(Number(portArg), '127.0.0.1');
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
