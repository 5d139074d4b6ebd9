import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../log.ts';
import { INBOX } from '../store/mail-store.ts';
import type { Pop3Service } from './service.ts';
import { ALICE, ALICE_PASSWORD, BOB, BOB_PASSWORD, CAROL, CAROL_PASSWORD, Pop3Client, createPop3World, unstuff, waitIdle, type Pop3World } from './test-support.ts';

const MSG1 = 'From: a@example.org\r\nTo: alice@example.test\r\nSubject: one\r\n\r\nHello\r\n.leading dot\r\n..two dots\r\n.\r\nlast line\r\n';
const MSG2 = 'From: b@example.org\r\nSubject: two\r\n\r\nbody 1\r\nbody 2\r\nbody 3\r\n';
const MSG3 = 'Subject: three\r\n\r\nx\r\n';

/** Connect on the STLS listener, upgrade and log in. */
async function loggedIn(port: number, user = ALICE, password = ALICE_PASSWORD): Promise<Pop3Client> {
  const c = await Pop3Client.connect(port);
  assert.match(await c.readLine(), /^\+OK/);
  assert.match(await c.startTls(), /^\+OK/);
  assert.match(await c.login(user, password), /^\+OK/);
  return c;
}

describe('Pop3Service', () => {
  let world: Pop3World;
  let service: Pop3Service;
  let port: number;
  let implicitPort: number;
  let uids: number[];

  before(async () => {
    world = await createPop3World();
    ({ service, plain: port, implicit: implicitPort } = await world.start());
    uids = [await world.deliver(ALICE, MSG1), await world.deliver(ALICE, MSG2), await world.deliver(ALICE, MSG3)];
  });

  after(async () => {
    await world.close();
  });

  it('greets without naming the software, CAPA before TLS hides USER and SASL', async () => {
    const c = await Pop3Client.connect(port);
    try {
      assert.equal(await c.readLine(), '+OK POP3 server ready');
      const capa = await c.multi('CAPA');
      assert.match(capa.status, /^\+OK/);
      assert.deepEqual(capa.lines, ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER', 'STLS']);
      assert.match(await c.command('USER alice@example.test'), /^-ERR \[AUTH\] /);
      assert.match(await c.command('PASS x'), /^-ERR \[AUTH\] /);
      assert.match(await c.command('AUTH PLAIN AGFsaWNlAHg='), /^-ERR \[AUTH\] /);
      assert.match(await c.command('STAT'), /^-ERR/, 'no transaction commands before login');
      assert.equal(await c.quit(), '+OK Logging out');
    } finally {
      c.destroy();
    }
  });

  it('after STLS, CAPA lists USER and SASL PLAIN (not STLS) and USER/PASS works', async () => {
    const c = await Pop3Client.connect(port);
    try {
      await c.readLine();
      assert.equal(await c.startTls(), '+OK Begin TLS negotiation');
      assert.ok(c.encrypted);
      const capa = await c.multi('capa');
      assert.deepEqual(capa.lines, ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER', 'USER', 'SASL PLAIN']);
      assert.ok(!capa.lines.some((l) => l.startsWith('IMPLEMENTATION')));
      assert.match(await c.command('STLS'), /^-ERR/);
      assert.equal(await c.command('user alice@example.test'), '+OK');
      assert.match(await c.command(`pass ${ALICE_PASSWORD}`), /^\+OK Logged in, maildrop has 3 messages/);
      assert.equal(await c.quit(), '+OK Logging out, 0 messages deleted');
    } finally {
      c.destroy();
    }
  });

  it('ignores commands pipelined behind STLS (no plaintext injection)', async () => {
    const c = await Pop3Client.connect(port);
    try {
      await c.readLine();
      c.write('STLS\r\nCAPA\r\nUSER alice@example.test\r\n');
      assert.equal(await c.readLine(), '+OK Begin TLS negotiation');
      await c.upgrade();
      // Had CAPA been run, its reply would come first (or have broken the handshake).
      assert.equal(await c.command('PASS x'), '-ERR USER first');
      assert.equal(await c.command('NOOP'), '-ERR NOOP not allowed in the AUTHORIZATION state');
    } finally {
      c.destroy();
    }
    await waitIdle(service);
  });

  it('AUTH PLAIN with an initial response, with a continuation, and cancelled', async () => {
    const plain = Buffer.from(`\0${ALICE}\0${ALICE_PASSWORD}`).toString('base64');
    let c = await Pop3Client.connect(port);
    try {
      await c.readLine();
      await c.startTls();
      assert.match(await c.command(`AUTH PLAIN ${plain}`), /^\+OK Logged in/);
      assert.equal(await c.quit(), '+OK Logging out, 0 messages deleted');
    } finally {
      c.destroy();
    }
    await waitIdle(service);
    c = await Pop3Client.connect(implicitPort, { tls: true });
    try {
      await c.readLine();
      assert.equal(await c.command('AUTH PLAIN'), '+ ');
      assert.match(await c.command('*'), /^-ERR/);
      assert.equal(await c.command('AUTH plain'), '+ ');
      assert.match(await c.command(plain), /^\+OK Logged in/);
      assert.match(await c.command('STAT'), /^\+OK 3 /);
      await c.quit();
    } finally {
      c.destroy();
    }
  });

  it('a wrong password gets -ERR [AUTH] and no password reaches the logs', async () => {
    const c = await Pop3Client.connect(implicitPort, { tls: true });
    try {
      await c.readLine();
      assert.equal(await c.login(BOB, 'wrong-secret-xyz'), '-ERR [AUTH] Authentication failed');
      const bad = Buffer.from(`\0${BOB}\0wrong-secret-xyz`).toString('base64');
      assert.equal(await c.command(`AUTH PLAIN ${bad}`), '-ERR [AUTH] Authentication failed');
      assert.match(await c.command('AUTH PLAIN !!!'), /^-ERR/);
      assert.match(await c.command('AUTH CRAM-MD5'), /^-ERR/);
      assert.match(await c.command('STAT'), /^-ERR/, 'still in AUTHORIZATION');
      assert.match(await c.login(BOB, BOB_PASSWORD), /^\+OK/);
      await c.quit();
    } finally {
      c.destroy();
    }
    await waitIdle(service);
    const text = JSON.stringify(world.logs);
    assert.ok(!text.includes('wrong-secret-xyz'));
    assert.ok(!text.includes(BOB_PASSWORD));
    assert.ok(!text.includes(ALICE_PASSWORD));
  });

  it('STAT, LIST, UIDL, TOP and RETR give exact octet counts and dot-stuffing round-trips', async () => {
    const c = await loggedIn(port);
    try {
      const sizes = [MSG1, MSG2, MSG3].map((m) => Buffer.byteLength(m));
      assert.equal(await c.command('STAT'), `+OK 3 ${sizes[0] + sizes[1] + sizes[2]}`);
      const list = await c.multi('LIST');
      assert.deepEqual(list.lines, sizes.map((s, i) => `${i + 1} ${s}`));
      assert.equal(await c.command('LIST 2'), `+OK 2 ${sizes[1]}`);
      assert.equal(await c.command('LIST 4'), '-ERR no such message');
      assert.equal(await c.command('LIST 0'), '-ERR no such message');
      assert.equal(await c.command('LIST x'), '-ERR no such message');

      const uidl = await c.multi('UIDL');
      const view = await world.store.open(ALICE, INBOX);
      const validity = view.uidValidity;
      await view.close();
      assert.deepEqual(uidl.lines, uids.map((u, i) => `${i + 1} ${validity}.${u}`));
      assert.equal(await c.command('UIDL 3'), `+OK 3 ${validity}.${uids[2]}`);

      const status = await c.command('RETR 1');
      assert.equal(status, `+OK ${sizes[0]} octets`);
      const body = await c.readBody();
      assert.equal(body.toString('latin1'), MSG1.replace(/^\./gm, '..') + '.\r\n');
      const message = unstuff(body);
      assert.equal(message.length, sizes[0]);
      assert.equal(message.toString('latin1'), MSG1);

      assert.equal(await c.command('TOP 2 1'), '+OK top of message follows');
      assert.equal((await c.readBody()).toString('latin1'), 'From: b@example.org\r\nSubject: two\r\n\r\nbody 1\r\n.\r\n');
      assert.equal(await c.command('TOP 1 0'), '+OK top of message follows');
      assert.equal((await c.readBody()).toString('latin1'), 'From: a@example.org\r\nTo: alice@example.test\r\nSubject: one\r\n\r\n.\r\n');
      assert.equal(await c.command('TOP 1 2'), '+OK top of message follows');
      assert.equal((await c.readBody()).toString('latin1'), MSG1.split('\r\n').slice(0, 6).join('\r\n').replace(/^\./gm, '..') + '\r\n.\r\n');
      assert.equal(await c.command('TOP 1'), '-ERR syntax: TOP msg n');
      assert.equal(await c.command('TOP 1 -1'), '-ERR invalid line count');
      assert.equal(await c.command('RETR 9'), '-ERR no such message');
      assert.equal(await c.command('NOOP'), '+OK');
      assert.match(await c.command('XYZZY'), /^-ERR/);
      assert.match(await c.command('USER bob'), /^-ERR/, 'USER is an AUTHORIZATION command');
      await c.quit();
    } finally {
      c.destroy();
    }
    await waitIdle(service);
    // RETR marks \Seen at UPDATE; TOP does not.
    const view = await world.store.open(ALICE, INBOX);
    try {
      assert.ok(view.get(uids[0])!.flags.includes('\\Seen'));
      assert.ok(!view.get(uids[1])!.flags.includes('\\Seen'));
    } finally {
      await view.close();
    }
  });

  it('answers pipelined commands in order', async () => {
    const c = await loggedIn(port);
    try {
      c.write('NOOP\r\nLIST 1\r\nUIDL\r\nSTAT\r\n');
      assert.equal(await c.readLine(), '+OK');
      assert.match(await c.readLine(), /^\+OK 1 \d+$/);
      assert.equal(await c.readLine(), '+OK unique-id listing follows');
      assert.equal((await c.readLines()).length, 3);
      assert.match(await c.readLine(), /^\+OK 3 \d+$/);
      await c.quit();
    } finally {
      c.destroy();
    }
    await waitIdle(service);
  });

  it('UIDL is stable across sessions', async () => {
    const first = await loggedIn(port);
    const a = (await first.multi('UIDL')).lines;
    await first.quit();
    first.destroy();
    await waitIdle(service);
    const second = await loggedIn(port);
    const b = (await second.multi('UIDL')).lines;
    await second.quit();
    second.destroy();
    await waitIdle(service);
    assert.equal(a.length, 3);
    assert.deepEqual(a, b);
  });

  it('a second session for the same user gets [IN-USE] and stays in AUTHORIZATION', async () => {
    const one = await loggedIn(port);
    const two = await Pop3Client.connect(implicitPort, { tls: true });
    try {
      await two.readLine();
      assert.equal(await two.login(ALICE, ALICE_PASSWORD), '-ERR [IN-USE] Mailbox in use');
      assert.match(await two.command('STAT'), /^-ERR/);
      await one.quit();
      await waitFor(() => service.connections === 1);
      assert.match(await two.login(ALICE, ALICE_PASSWORD), /^\+OK Logged in/);
      await two.quit();
    } finally {
      one.destroy();
      two.destroy();
    }
    await waitIdle(service);
  });

  it('answers -ERR to an overlong line and carries on', async () => {
    const c = await Pop3Client.connect(port);
    try {
      await c.readLine();
      c.write('NOOP ' + 'x'.repeat(100_000) + '\r\n');
      assert.equal(await c.readLine(), '-ERR line too long');
      const capa = await c.multi('CAPA');
      assert.match(capa.status, /^\+OK/);
      await c.quit();
    } finally {
      c.destroy();
    }
  });

  describe('deletion', () => {
    const extra: number[] = [];
    before(async () => {
      await waitIdle(service);
      extra.push(await world.deliver(BOB, 'Subject: b1\r\n\r\n1\r\n'), await world.deliver(BOB, 'Subject: b2\r\n\r\n2\r\n'), await world.deliver(BOB, 'Subject: b3\r\n\r\n3\r\n'));
    });

    it('DELE then a dropped connection deletes nothing', async () => {
      const c = await loggedIn(port, BOB, BOB_PASSWORD);
      assert.equal(await c.command('DELE 1'), '+OK message 1 deleted');
      assert.equal(await c.command('DELE 1'), '-ERR message 1 already deleted');
      assert.equal(await c.command('RETR 1'), '-ERR message 1 already deleted');
      c.destroy();
      await waitIdle(service);
      assert.deepEqual(await world.inboxUids(BOB), extra);
    });

    it('DELE, RSET, QUIT deletes nothing', async () => {
      const c = await loggedIn(port, BOB, BOB_PASSWORD);
      try {
        assert.match(await c.command('DELE 2'), /^\+OK/);
        assert.match(await c.command('DELE 3'), /^\+OK/);
        assert.equal(await c.command('STAT'), `+OK 1 ${Buffer.byteLength('Subject: b1\r\n\r\n1\r\n')}`);
        assert.deepEqual((await c.multi('LIST')).lines, [`1 ${Buffer.byteLength('Subject: b1\r\n\r\n1\r\n')}`]);
        assert.match(await c.command('RSET'), /^\+OK maildrop has 3 messages/);
        assert.equal(await c.quit(), '+OK Logging out, 0 messages deleted');
      } finally {
        c.destroy();
      }
      await waitIdle(service);
      assert.deepEqual(await world.inboxUids(BOB), extra);
    });

    it('DELE then QUIT removes exactly the marked messages', async () => {
      const c = await loggedIn(port, BOB, BOB_PASSWORD);
      try {
        assert.match(await c.command('DELE 1'), /^\+OK/);
        assert.match(await c.command('DELE 3'), /^\+OK/);
        assert.equal(await c.quit(), '+OK Logging out, 2 messages deleted');
      } finally {
        c.destroy();
      }
      await waitIdle(service);
      assert.deepEqual(await world.inboxUids(BOB), [extra[1]]);
      const end = world.logs.filter((l) => l.event === 'pop3.session_end' && l.user === BOB).at(-1);
      assert.equal(end?.deleted, 2);
      assert.equal(end?.reason, 'quit');
    });
  });

  it('the implicit TLS listener works', async () => {
    await waitIdle(service);
    const c = await Pop3Client.connect(implicitPort, { tls: true });
    try {
      assert.equal(await c.readLine(), '+OK POP3 server ready');
      const capa = await c.multi('CAPA');
      assert.ok(capa.lines.includes('USER'));
      assert.ok(!capa.lines.includes('STLS'));
      assert.match(await c.command('STLS'), /^-ERR/);
      assert.match(await c.login(ALICE, ALICE_PASSWORD), /^\+OK/);
      assert.match(await c.command('STAT'), /^\+OK 3 \d+$/);
      await c.quit();
    } finally {
      c.destroy();
    }
  });
});

describe('Pop3Service options', () => {
  let world: Pop3World;
  before(async () => {
    world = await createPop3World();
  });
  after(async () => {
    await world.close();
  });

  it('allowPlaintextAuth lists USER and SASL before TLS and accepts them', async () => {
    const { plain } = await world.start({ allowPlaintextAuth: true });
    const c = await Pop3Client.connect(plain);
    try {
      await c.readLine();
      const capa = await c.multi('CAPA');
      assert.deepEqual(capa.lines, ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER', 'USER', 'SASL PLAIN', 'STLS']);
      assert.match(await c.login(ALICE, ALICE_PASSWORD), /^\+OK Logged in, maildrop has 0 messages/);
      assert.deepEqual((await c.multi('CAPA')).lines, ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER']);
      await c.quit();
    } finally {
      c.destroy();
    }
  });

  it('calls auth.login and auth.failed with protocol pop3', async () => {
    const seen: string[] = [];
    const owner = { name: 'spy', timeoutMs: 1000, log: createLogger({ level: 'silent' }), signal: new AbortController().signal };
    world.harness.hooks.auth.login.tap(owner, (a, info) => { seen.push(`login ${a.protocol} ${a.mechanism} ${info.user} ${a.secure}`); });
    world.harness.hooks.auth.failed.tap(owner, (a, info) => { seen.push(`failed ${a.protocol} ${a.mechanism} ${info.username}`); });
    const { implicit, service } = await world.start();
    const c = await Pop3Client.connect(implicit, { tls: true });
    try {
      await c.readLine();
      assert.match(await c.login(CAROL, 'nope'), /^-ERR \[AUTH\]/);
      assert.match(await c.login(CAROL, CAROL_PASSWORD), /^\+OK/);
      await c.quit();
    } finally {
      c.destroy();
    }
    await waitIdle(service);
    assert.deepEqual(seen, [`failed pop3 USER ${CAROL}`, `login pop3 USER ${CAROL} true`]);
  });

  it('sends a message stored with bare LF line ends with CRLF', async () => {
    await world.deliver(CAROL, 'Subject: lf\n\nline\n.dot\nend');
    const { plain, service } = await world.start();
    const c = await loggedIn(plain, CAROL, CAROL_PASSWORD);
    try {
      assert.match(await c.command('RETR 1'), /^\+OK \d+ octets$/);
      assert.equal((await c.readBody()).toString('latin1'), 'Subject: lf\r\n\r\nline\r\n..dot\r\nend\r\n.\r\n');
      await c.quit();
    } finally {
      c.destroy();
    }
    await waitIdle(service);
    assert.ok(world.logs.some((l) => l.event === 'pop3.size_mismatch'));
  });

  it('idle timeout closes the session without UPDATE', async () => {
    const uid = await world.deliver(BOB, 'Subject: idle\r\n\r\nkeep me\r\n');
    const { service, plain } = await world.start({ idleTimeoutMs: 1000 });
    const c = await loggedIn(plain, BOB, BOB_PASSWORD);
    try {
      assert.match(await c.command('DELE 1'), /^\+OK/);
      assert.equal(await c.readLine(), '-ERR Disconnected for inactivity');
      await c.waitClosed();
    } finally {
      c.destroy();
    }
    await waitIdle(service);
    assert.deepEqual(await world.inboxUids(BOB), [uid]);
    const end = world.logs.filter((l) => l.event === 'pop3.session_end' && l.user === BOB).at(-1);
    assert.equal(end?.reason, 'idle timeout');
    assert.equal(end?.deleted, 0);
  });

  it('maxConnections refuses the extra connection with [SYS/TEMP]', async () => {
    const { service, plain } = await world.start({ maxConnections: 1 });
    const one = await Pop3Client.connect(plain);
    const two = await Pop3Client.connect(plain);
    try {
      assert.match(await one.readLine(), /^\+OK/);
      assert.equal(await two.readLine(), '-ERR [SYS/TEMP] too many connections');
      await two.waitClosed();
      await one.quit();
    } finally {
      one.destroy();
      two.destroy();
    }
    await waitIdle(service);
  });

  it('stop() ends open sessions without UPDATE and releases them', async () => {
    const uid = await world.deliver(ALICE, 'Subject: stop\r\n\r\nstays\r\n');
    const { service, plain } = await world.start();
    const c = await loggedIn(plain);
    try {
      assert.match(await c.command('DELE 1'), /^\+OK/);
      await service.stop();
      assert.equal(await c.readLine(), '-ERR [SYS/TEMP] Server shutting down');
      await c.waitClosed();
    } finally {
      c.destroy();
    }
    assert.equal(service.connections, 0);
    assert.deepEqual(await world.inboxUids(ALICE), [uid]);
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
