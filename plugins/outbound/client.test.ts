import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ConnectError, SmtpClient, TransactionError, type ClientOptions, type SendEnvelope } from './client.ts';
import { basicReplies, startScript } from './script-server.ts';
import { waitFor } from '../../test/helpers/mail.ts';
import { makeCert, startPeers } from './test-support.ts';

const HOST = '127.0.0.1';
const plain = { mode: 'opportunistic', verify: false, source: 'test' } as const;

const options = (port: number, o: Partial<ClientOptions> = {}): ClientOptions => ({
  address: HOST, port, hostname: 'mx.example.test', ehloName: 'client.test', implicitTls: false, policy: plain,
  connectTimeoutMs: 2000, greetingTimeoutMs: 2000, commandTimeoutMs: 2000, ...o,
});

const envelope = (to: string[], o: Partial<SendEnvelope> = {}): SendEnvelope => ({
  from: 'a@sender.test', to: to.map((address) => ({ address })), size: 100, eightBit: false, smtpUtf8: false, requireTls: false, ...o,
});

const MESSAGE = 'Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\nbare lf\n.\r\nlast line without a break';
/** What the peer must hand to its application: dots unstuffed, every line CRLF. */
const RECEIVED = 'Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\nbare lf\r\n.\r\nlast line without a break\r\n';

/** The message as a stream in awkward chunks: a split CRLF, a dot at a chunk start. */
const chunked = () => Readable.from([MESSAGE.slice(0, 18), MESSAGE.slice(18, 31), MESSAGE.slice(31, 47), MESSAGE.slice(47)].map((s) => Buffer.from(s)));

void test('pipelined transactions against smtp-server: mixed RCPT replies, dot-stuffing intact, no RSET between', async () => {
  const peers = await startPeers([HOST], {
    rcptError: (a) => (a.startsWith('full') ? { code: 452, text: '4.2.2 Mailbox full' } : a.startsWith('nobody') ? { code: 550, text: '5.1.1 No such user' } : undefined),
  });
  const c = await SmtpClient.open(options(peers.port));
  try {
    assert.ok(c.extensions.has('PIPELINING'));
    const res = await c.send(envelope(['bob@example.test', 'full@example.test', 'nobody@example.test', 'carol@example.test']), Buffer.from(MESSAGE));
    assert.deepEqual(res.accepted, ['bob@example.test', 'carol@example.test']);
    assert.deepEqual(res.rejected, [
      { recipient: 'full@example.test', response: '452 4.2.2 Mailbox full' },
      { recipient: 'nobody@example.test', response: '550 5.1.1 No such user' },
    ]);
    assert.match(res.response, /^250 /);
    const streamed = await c.send(envelope(['dave@example.test']), chunked());
    assert.deepEqual(streamed.accepted, ['dave@example.test']);
    assert.deepEqual(peers.received.map((m) => m.body), [RECEIVED, RECEIVED], 'the body arrives intact, from a buffer and from a stream');
    assert.deepEqual(peers.received.map((m) => m.to), [['bob@example.test', 'carol@example.test'], ['dave@example.test']]);
    assert.equal(peers.received[0].sessionId, peers.received[1].sessionId);
    assert.equal(peers.resets.get(HOST) ?? 0, 0, 'RFC 5321 §4.1.4: the end-of-data reply ended the transaction');
  } finally {
    c.close();
    await peers.close();
  }
});

void test('the pipelined group is one write: a peer that answers MAIL only once DATA has arrived still gets the message', async () => {
  const replies = basicReplies(['PIPELINING', 'SIZE 1000000']);
  const held: string[] = [];
  const peer = await startScript({
    onLine(line, s) {
      if (/^(MAIL|RCPT)/.test(line)) {
        held.push(replies(line)!);
        return undefined;
      }
      if (line === 'DATA') {
        s.send(held.splice(0).map((r) => `${r}\r\n`).join(''));
        return '354 go ahead';
      }
      return replies(line);
    },
  });
  const c = await SmtpClient.open(options(peer.port));
  try {
    const res = await c.send(envelope(['x@example.test', 'y@example.test']), Buffer.from('Subject: x\r\n\r\nhi\r\n'));
    assert.deepEqual(res.accepted, ['x@example.test', 'y@example.test']);
    const s = peer.sessions[0];
    assert.deepEqual(s.commands.slice(1, 5), ['MAIL FROM:<a@sender.test> SIZE=100', 'RCPT TO:<x@example.test>', 'RCPT TO:<y@example.test>', 'DATA']);
    assert.deepEqual(s.bodies, ['Subject: x\r\n\r\nhi\r\n']);
  } finally {
    c.close();
    await peer.close();
  }
});

void test('all RCPTs refused: a TransactionError with each reply; RSET only then, and the connection carries on', async () => {
  const peers = await startPeers([HOST], { rcptError: (a) => (a.startsWith('no') ? { code: 550, text: '5.7.1 Relaying denied' } : undefined) });
  const c = await SmtpClient.open(options(peers.port));
  try {
    const err = await c.send(envelope(['no1@example.test', 'no2@example.test']), Buffer.from(MESSAGE)).catch((e: unknown) => e);
    assert.ok(err instanceof TransactionError);
    assert.equal(err.stage, 'RCPT TO');
    assert.deepEqual(err.rejected.map((r) => [r.recipient, r.response]), [['no1@example.test', '550 5.7.1 Relaying denied'], ['no2@example.test', '550 5.7.1 Relaying denied']]);
    assert.equal(peers.received.length, 0);
    assert.ok(c.usable);
    const res = await c.send(envelope(['yes@example.test']), Buffer.from(MESSAGE));
    assert.deepEqual(res.accepted, ['yes@example.test']);
    assert.equal(peers.resets.get(HOST), 1, 'one RSET, after the aborted transaction');
  } finally {
    c.close();
    await peers.close();
  }
});

void test('RFC 2920 §3.1: no recipient accepted but DATA answered 354: only "." is sent', async () => {
  const replies = basicReplies(['PIPELINING']);
  const peer = await startScript({ onLine: (line) => (line.startsWith('RCPT') ? '550 5.1.1 no' : replies(line)) });
  const c = await SmtpClient.open(options(peer.port));
  try {
    const err = await c.send(envelope(['x@example.test']), Buffer.from('Subject: secret\r\n\r\nbody\r\n')).catch((e: unknown) => e);
    assert.ok(err instanceof TransactionError && err.stage === 'RCPT TO');
    assert.deepEqual(peer.sessions[0].bodies, [''], 'an empty body: the message itself was not sent');
    assert.ok(c.usable);
  } finally {
    c.close();
    await peer.close();
  }
});

void test('5xx to DATA and 5xx at the end of data are TransactionErrors naming the stage', async () => {
  const replies = basicReplies(['PIPELINING']);
  let refuseData = true;
  const peer = await startScript({ onLine: (line) => (line === 'DATA' && refuseData ? '554 5.3.0 no data today' : replies(line)) });
  const c = await SmtpClient.open(options(peer.port));
  try {
    const err = await c.send(envelope(['x@example.test']), Buffer.from('a\r\n')).catch((e: unknown) => e);
    assert.ok(err instanceof TransactionError);
    assert.equal(err.stage, 'DATA');
    assert.equal(err.response, '554 5.3.0 no data today');
    refuseData = false;
    // The next transaction starts with RSET (the aborted one still had a sender).
    await c.send(envelope(['x@example.test']), Buffer.from('a\r\n'));
    assert.deepEqual(peer.sessions[0].commands.filter((l) => /^(MAIL|RSET|DATA|\.)/.test(l)).map((l) => l.split(' ')[0]), ['MAIL', 'DATA', 'RSET', 'MAIL', 'DATA', '.']);
  } finally {
    c.close();
    await peer.close();
  }

  const sink = await startPeers([HOST], { server: { onData: (stream, _s, cb) => { stream.resume(); stream.on('end', () => cb(Object.assign(new Error('5.7.1 message refused'), { responseCode: 554 }))); } } });
  const c2 = await SmtpClient.open(options(sink.port));
  try {
    const err = await c2.send(envelope(['x@example.test']), Buffer.from(MESSAGE)).catch((e: unknown) => e);
    assert.ok(err instanceof TransactionError);
    assert.equal(err.stage, 'end of data');
    assert.match(err.response, /^554 5\.7\.1 message refused/);
    assert.ok(c2.usable);
  } finally {
    c2.close();
    await sink.close();
  }
});

void test('without PIPELINING: one command at a time, same results', async () => {
  const peers = await startPeers([HOST], { server: { hidePIPELINING: true }, rcptError: (a) => (a.startsWith('no') ? { code: 550, text: '5.1.1 No such user' } : undefined) });
  const c = await SmtpClient.open(options(peers.port));
  try {
    assert.equal(c.extensions.has('PIPELINING'), false);
    const res = await c.send(envelope(['bob@example.test', 'nobody@example.test']), chunked());
    assert.deepEqual(res.accepted, ['bob@example.test']);
    assert.deepEqual(res.rejected.map((r) => r.recipient), ['nobody@example.test']);
    assert.equal(peers.received[0].body, RECEIVED);
  } finally {
    c.close();
    await peers.close();
  }
  // Without PIPELINING, DATA is not sent when no recipient was accepted.
  const replies = basicReplies([]);
  const peer = await startScript({ onLine: (line) => (line.startsWith('RCPT') ? '550 5.1.1 no' : replies(line)) });
  const c2 = await SmtpClient.open(options(peer.port));
  try {
    await assert.rejects(c2.send(envelope(['x@example.test']), Buffer.from('a\r\n')), TransactionError);
    assert.deepEqual(peer.sessions[0].commands.slice(1), ['MAIL FROM:<a@sender.test>', 'RCPT TO:<x@example.test>']);
  } finally {
    c2.close();
    await peer.close();
  }
});

void test('STARTTLS with a verified certificate, then AUTH (PLAIN, and LOGIN when only it is offered); a wrong password is kind auth', async () => {
  const cert = await makeCert(['mx.example.test']);
  const auth = { user: 'relay', pass: 's3cret' };
  const require = { mode: 'require', verify: true, source: 'test' } as const;
  for (const authMethods of [['PLAIN', 'LOGIN'], ['LOGIN']]) {
    const peers = await startPeers([HOST], { cert, auth, server: { authMethods } });
    try {
      const c = await SmtpClient.open(options(peers.port, { policy: require, ca: [cert.cert], auth }));
      assert.equal(c.tls.secure, true);
      assert.equal(c.tls.authorized, true);
      assert.match(c.tls.protocol ?? '', /^TLSv1\.[23]$/);
      await c.send(envelope(['bob@example.test']), Buffer.from(MESSAGE));
      c.close();
      assert.equal(peers.received[0].secure, true);
      const bad = await SmtpClient.open(options(peers.port, { policy: require, ca: [cert.cert], auth: { user: 'relay', pass: 'wrong' } })).catch((e: unknown) => e);
      assert.ok(bad instanceof ConnectError);
      assert.equal(bad.kind, 'auth');
      assert.match(bad.response ?? '', /^535/);
      assert.doesNotMatch(bad.message, /wrong/, 'the password is not in the error');
    } finally {
      await peers.close();
    }
  }
  // A certificate for another name fails verification: refused, never plaintext.
  const peers = await startPeers([HOST], { cert });
  try {
    const err = await SmtpClient.open(options(peers.port, { hostname: 'other.example.test', policy: require, ca: [cert.cert] })).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.kind, 'tls');
    assert.equal(peers.received.length, 0);
  } finally {
    await peers.close();
  }
});

void test('AUTH is never sent without TLS', async () => {
  const peer = await startScript({ onLine: basicReplies(['AUTH PLAIN LOGIN']) });
  try {
    const err = await SmtpClient.open(options(peer.port, { policy: { mode: 'none', verify: false, source: 'test' }, auth: { user: 'u', pass: 'p' } })).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.kind, 'policy');
    assert.ok(!peer.sessions[0].commands.some((l) => l.startsWith('AUTH')));
  } finally {
    await peer.close();
  }
});

void test('greeting: 4xx is kind protocol with the reply (and QUIT); none within the timeout is kind network', async () => {
  const busy = await startScript({ greeting: '421 4.3.2 try later', onLine: (line) => (line === 'QUIT' ? '221 bye' : undefined) });
  try {
    const err = await SmtpClient.open(options(busy.port)).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.kind, 'protocol');
    assert.equal(err.response, '421 4.3.2 try later');
    await waitFor(() => busy.sessions[0].commands.includes('QUIT'), 5000, 'QUIT after the refused greeting');
  } finally {
    await busy.close();
  }
  const mute = await startScript({ greeting: null, onLine: () => undefined });
  try {
    const err = await SmtpClient.open(options(mute.port, { greetingTimeoutMs: 200 })).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.kind, 'network');
    assert.match(err.message, /no reply within 200 ms/);
  } finally {
    await mute.close();
  }
});

void test('EHLO refused with 5xx: HELO, and no extensions are used', async () => {
  const replies = basicReplies([]);
  const peer = await startScript({ onLine: (line) => (line.startsWith('EHLO') ? '502 5.5.1 unknown' : replies(line)) });
  const c = await SmtpClient.open(options(peer.port));
  try {
    assert.equal(c.extensions.size, 0);
    await c.send(envelope(['x@example.test'], { size: 5, eightBit: true }), Buffer.from('a\r\n'));
    assert.deepEqual(peer.sessions[0].commands.slice(0, 3), ['EHLO client.test', 'HELO client.test', 'MAIL FROM:<a@sender.test>']);
  } finally {
    c.close();
    await peer.close();
  }
});

void test('a stalled server: the command timeout fails the send (no hang) and the connection is closed', async () => {
  const replies = basicReplies(['PIPELINING']);
  const peer = await startScript({ onLine: (line) => (line.startsWith('MAIL') ? undefined : replies(line)) });
  const c = await SmtpClient.open(options(peer.port, { commandTimeoutMs: 200 }));
  try {
    const err = await c.send(envelope(['x@example.test']), Buffer.from('a\r\n')).catch((e: unknown) => e);
    assert.ok(err instanceof Error && !(err instanceof TransactionError));
    assert.match(err.message, /no reply within 200 ms/);
    assert.equal(c.usable, false);
  } finally {
    c.close();
    await peer.close();
  }
});

void test('garbage, a reply cut off by a close, an endless line or an unasked-for reply: clean errors, never a hang', async () => {
  const cases: Array<{ name: string; onMail: (s: { send(t: string): void; socket: { end(): void } }) => void; match: RegExp }> = [
    { name: 'garbage', onMail: (s) => s.send('HTTP/1.1 400 Bad Request\r\n'), match: /not an SMTP reply/ },
    { name: 'cut off', onMail: (s) => { s.send('250-partial\r\n'); s.socket.end(); }, match: /closed/ },
    { name: 'endless', onMail: (s) => s.send(`250 ${'x'.repeat(10_000)}`), match: /too long/ },
  ];
  for (const k of cases) {
    const replies = basicReplies([]);
    const peer = await startScript({
      onLine: (line, s) => {
        if (!line.startsWith('MAIL')) return replies(line);
        k.onMail(s);
        return undefined;
      },
    });
    const c = await SmtpClient.open(options(peer.port));
    try {
      const err = await c.send(envelope(['x@example.test']), Buffer.from('a\r\n')).catch((e: unknown) => e);
      assert.ok(err instanceof Error && !(err instanceof TransactionError), k.name);
      assert.match(err.message, k.match, k.name);
      assert.equal(c.usable, false, k.name);
    } finally {
      c.close();
      await peer.close();
    }
  }
  // A reply while no command is pending (e.g. an idle connection's 421) makes it unusable.
  const replies = basicReplies([]);
  const peer = await startScript({ onLine: (line, s) => { if (line.startsWith('EHLO')) setTimeout(() => s.send('421 4.4.2 idle timeout\r\n'), 20); return replies(line); } });
  const c = await SmtpClient.open(options(peer.port));
  try {
    await waitFor(() => !c.usable, 5000, 'the connection marked unusable');
    assert.match(c.failure ?? '', /unexpected reply: 421/);
  } finally {
    c.close();
    await peer.close();
  }
});

void test('MAIL FROM and RCPT TO parameters: SIZE, BODY=8BITMIME, SMTPUTF8, REQUIRETLS, DSN only where offered', async () => {
  const replies = basicReplies(['PIPELINING', 'SIZE 100000', '8BITMIME', 'SMTPUTF8', 'DSN']);
  const peer = await startScript({ onLine: replies });
  const c = await SmtpClient.open(options(peer.port));
  try {
    await c.send({
      from: 'a@sender.test', size: 42, eightBit: true, smtpUtf8: true, requireTls: true, dsn: { ret: 'HDRS', envid: 'id+1' },
      to: [{ address: 'b@example.test', dsn: { notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;b+x@example.test' } }, { address: 'c@example.test' }],
    }, Buffer.from('a\r\n'));
    assert.deepEqual(peer.sessions[0].commands.slice(1, 4), [
      'MAIL FROM:<a@sender.test> SIZE=42 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+2B1',
      'RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@example.test',
      'RCPT TO:<c@example.test>',
    ], 'no REQUIRETLS: not offered (the engine refuses such a message before sending)');
  } finally {
    c.close();
    await peer.close();
  }
});

void test('STARTTLS: a reply injected behind the 220, before the handshake, fails the connection (RFC 3207 §5)', async () => {
  const replies = basicReplies(['STARTTLS']);
  const peer = await startScript({ onLine: (line) => (line === 'STARTTLS' ? '220 2.0.0 go ahead\r\n250 2.0.0 injected' : replies(line)) });
  try {
    const err = await SmtpClient.open(options(peer.port)).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.kind, 'protocol');
    assert.match(err.message, /unexpected reply: 250 2\.0\.0 injected/);
    assert.deepEqual(peer.sessions[0].commands, ['EHLO client.test', 'STARTTLS'], 'nothing sent after it');
  } finally {
    await peer.close();
  }
});
