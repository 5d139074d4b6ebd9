import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '../../test/helpers/mail.ts';
import { send } from '../../test/helpers/mail.ts';
import { newQueueId } from './ids.ts';
import type { SpoolEnvelope } from './envelope.ts';
import { startSmtpSink } from './testing/smtp-sink.ts';
import { jsonLines, sendRaw, startQueueServer } from './testing/queue-fixture.ts';

const MSG = (subject: string) => `Subject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@test>\r\n\r\nhello\r\n`;
const queueFiles = (dataDir: string) => readdir(path.join(dataDir, 'queue'));
const emptyQueue = (dataDir: string) => waitFor(async () => (await queueFiles(dataDir)).length === 0, 15_000, 'an empty queue');

test('remote recipients of a message go to the delivery engine as one job: one next hop, one transaction; outbound.delivered fires per recipient', async () => {
  const sink = await startSmtpSink();
  const t = await startQueueServer(sink);
  try {
    const r = await send({ port: t.port('mx'), from: 'alice@sender.test', to: ['a@one.test', 'b@one.test', 'c@two.test'], raw: MSG('grouped') });
    assert.match(r.response, /^250 /);
    await waitFor(() => sink.messages.length === 1, 15_000, 'the relayed message');
    await emptyQueue(t.dataDir);
    // Two domains, one next hop (the test engine's fixed relay): one transaction with every RCPT.
    assert.equal(sink.messages.length, 1);
    assert.deepEqual(sink.messages[0].to.sort(), ['a@one.test', 'b@one.test', 'c@two.test']);
    assert.ok(sink.messages.every((m) => m.from === 'alice@sender.test' && m.raw.includes('Subject: grouped') && /^Received: /.test(m.raw)));
    await emptyQueue(t.dataDir);
    const events = await waitFor(async () => {
      const e = await jsonLines(t.events);
      return e.length === 3 ? e : undefined;
    }, 5000, 'three hook events');
    assert.deepEqual(events.map((e) => `${e.hook} ${e.recipient} ${e.attempt}`).sort(), ['delivered a@one.test 1', 'delivered b@one.test 1', 'delivered c@two.test 1']);
    assert.deepEqual(await jsonLines(t.notices), [], 'no notice asked for');
  } finally {
    await t.close();
    await sink.close();
  }
});

test('a 4xx is retried on the backoff until the next hop accepts', async () => {
  const sink = await startSmtpSink({ rcpt: (a, seen) => (a === 'slow@remote.test' && seen < 2 ? { code: 451, text: '4.7.1 try again later' } : undefined) });
  const t = await startQueueServer(sink);
  try {
    const id = await sendRaw(t.port('mx'), 'alice@sender.test', ['<slow@remote.test>'], MSG('slow'));
    await waitFor(() => sink.messages.length === 1, 15_000, 'delivery after two 4xx');
    assert.equal(sink.rcptCount('slow@remote.test'), 3);
    await emptyQueue(t.dataDir);
    const events = await waitFor(async () => {
      const e = await jsonLines(t.events);
      return e.length === 3 ? e : undefined;
    }, 5000, 'three hook events');
    assert.deepEqual(events.map((e) => `${e.hook} ${e.attempt}`), ['deferred 1', 'deferred 2', 'delivered 3']);
    assert.ok(events.every((e) => e.queueId === id));
    assert.equal(events[0].reply.code, 451);
    assert.ok(events[1].nextAttemptAt - events[0].nextAttemptAt >= 100, 'backoff grows');
    const deferredLogs = t.logs.filter((l) => l.event === 'outbound.deferred');
    assert.equal(deferredLogs.length, 2);
  } finally {
    await t.close();
    await sink.close();
  }
});

test('a 5xx bounces that recipient only; the notifier gets a failure with status and diagnostic', async () => {
  const sink = await startSmtpSink({ rcpt: (a) => (a === 'nobody@remote.test' ? { code: 550, text: '5.1.1 no such user' } : undefined) });
  const t = await startQueueServer(sink);
  try {
    const id = await sendRaw(t.port('mx'), 'alice@sender.test', ['<nobody@remote.test>', '<someone@remote.test>'], MSG('bounce'));
    await emptyQueue(t.dataDir);
    assert.equal(sink.messages.length, 1);
    assert.deepEqual(sink.messages[0].to, ['someone@remote.test']);
    const notices = await jsonLines(t.notices);
    assert.equal(notices.length, 1);
    assert.equal(notices[0].kind, 'failure');
    assert.equal(notices[0].queueId, id);
    assert.equal(notices[0].sender, 'alice@sender.test');
    assert.equal(notices[0].recipients.length, 1);
    const r = notices[0].recipients[0];
    assert.equal(r.address, 'nobody@remote.test');
    assert.equal(r.action, 'failed');
    assert.equal(r.status, '5.1.1');
    assert.equal(r.diagnostic, 'smtp; 550 5.1.1 no such user');
    assert.match(r.remoteMta, /^127\.0\.0\.1:\d+$/);
    const events = await jsonLines(t.events);
    assert.deepEqual(events.map((e) => `${e.hook} ${e.recipient}`).sort(), ['bounced nobody@remote.test', 'delivered someone@remote.test']);
  } finally {
    await t.close();
    await sink.close();
  }
});

test('NOTIFY=NEVER gets no notice; a null-sender failure is handed to the DSN writer with the empty sender (postmaster or drop is its call)', async () => {
  const sink = await startSmtpSink({ rcpt: (a) => (a.startsWith('gone') ? { code: 550, text: '5.1.1 gone' } : undefined) });
  const t = await startQueueServer(sink);
  try {
    await sendRaw(t.port('mx'), 'alice@sender.test', ['<gone1@remote.test> NOTIFY=NEVER'], MSG('never'));
    const nullId = await sendRaw(t.port('mx'), '', ['<gone2@remote.test>'], MSG('nullsender'));
    await waitFor(async () => (await jsonLines(t.events)).filter((e) => e.hook === 'bounced').length === 2, 15_000, 'two bounces');
    await emptyQueue(t.dataDir);
    const notices = await jsonLines(t.notices);
    assert.deepEqual(notices.map((n) => `${n.kind} ${n.queueId} <${n.sender}> ${n.recipients.map((r: { address: string }) => r.address).join(',')}`), [`failure ${nullId} <> gone2@remote.test`]);
  } finally {
    await t.close();
    await sink.close();
  }
});

test('NOTIFY=SUCCESS: relayed to a hop without DSN we report it; a hop with DSN reports itself (RFC 3461 §6.2)', async () => {
  for (const hideDsn of [true, false]) {
    const sink = await startSmtpSink({ hideDsn });
    const t = await startQueueServer(sink);
    try {
      await sendRaw(t.port('mx'), 'alice@sender.test', ['<ok@remote.test> NOTIFY=SUCCESS,FAILURE'], MSG(`success${hideDsn}`));
      await emptyQueue(t.dataDir);
      const notices = await jsonLines(t.notices);
      if (hideDsn) {
        assert.equal(notices.length, 1);
        assert.equal(notices[0].kind, 'success');
        assert.equal(notices[0].recipients[0].action, 'relayed');
      } else {
        assert.deepEqual(notices, []);
      }
    } finally {
      await t.close();
      await sink.close();
    }
  }
});

test('a delay warning is sent once after delayWarningMs; the recipient stays queued', async () => {
  const sink = await startSmtpSink({ rcpt: () => ({ code: 451, text: '4.4.3 busy' }) });
  const t = await startQueueServer(sink, { delayWarningMs: 1000 });
  try {
    const id = await sendRaw(t.port('mx'), 'alice@sender.test', ['<late@remote.test>'], MSG('delay'));
    const notices = await waitFor(async () => {
      const n = await jsonLines(t.notices);
      return n.length ? n : undefined;
    }, 15_000, 'a delay notice');
    assert.equal(notices[0].kind, 'delay');
    assert.equal(notices[0].recipients[0].action, 'delayed');
    assert.equal(notices[0].recipients[0].status, '4.4.3');
    const attemptsAtNotice = sink.rcptCount('late@remote.test');
    await waitFor(() => sink.rcptCount('late@remote.test') >= attemptsAtNotice + 2, 15_000, 'two more attempts');
    assert.equal((await jsonLines(t.notices)).length, 1, 'one delay notice per recipient');
    const files = await queueFiles(t.dataDir);
    assert.ok(files.includes(`${id}.env`));
  } finally {
    await t.close();
    await sink.close();
  }
});

test('a failing notifier is retried: the recipient is marked notified only once send resolved', async () => {
  const sink = await startSmtpSink({ rcpt: () => ({ code: 550, text: '5.7.1 refused' }) });
  const t = await startQueueServer(sink);
  try {
    t.notifier.failing = true;
    const id = await sendRaw(t.port('mx'), 'alice@sender.test', ['<x@remote.test>'], MSG('notifier'));
    await waitFor(() => t.logs.filter((l) => l.event === 'dsn.failed').length >= 2, 15_000, 'two failed notice attempts');
    assert.ok((await queueFiles(t.dataDir)).includes(`${id}.env`), 'kept until notified');
    t.notifier.failing = false;
    await emptyQueue(t.dataDir);
    const notices = await jsonLines(t.notices);
    assert.equal(notices.length, 1);
    assert.equal(notices[0].kind, 'failure');
    assert.equal(sink.rcptCount('x@remote.test'), 1, 'one delivery attempt: only the notice was retried');
  } finally {
    await t.close();
    await sink.close();
  }
});

test('a restart resumes deferred remote recipients at their times, from the schedule hint', async () => {
  const attemptsAt: number[] = [];
  const sink = await startSmtpSink({ rcpt: (_a, seen) => (attemptsAt.push(Date.now()), seen === 0 ? { code: 451, text: '4.3.2 later' } : undefined) });
  const work = await mkdtemp(path.join(tmpdir(), 'pochta-queue-restart-'));
  try {
    let t = await startQueueServer(sink, { remoteRetryBaseMs: 2000, remoteRetryMaxMs: 5000 }, work);
    const id = await sendRaw(t.port('mx'), 'alice@sender.test', ['<r@remote.test>'], MSG('restart'));
    await waitFor(async () => (await jsonLines(t.events)).some((e) => e.hook === 'deferred'), 15_000, 'a deferral');
    await t.close(true);
    const files = await readdir(path.join(work, 'data', 'queue'));
    const hint = files.find((f) => f.startsWith(`${id}.next-`));
    assert.ok(hint, `a schedule hint file: ${files.join(' ')}`);
    const hintAt = parseInt(hint.slice(`${id}.next-`.length), 36);
    t = await startQueueServer(sink, { remoteRetryBaseMs: 2000, remoteRetryMaxMs: 5000 }, work);
    try {
      const resumed = t.logs.find((l) => l.event === 'queue.resumed');
      assert.equal(resumed?.count, 1);
      assert.equal(resumed?.waiting, 1, 'scheduled from the hint, without reading the envelope');
      await waitFor(() => sink.messages.length === 1, 15_000, 'delivery after the restart');
      assert.equal(attemptsAt.length, 2);
      assert.ok(attemptsAt[1] >= hintAt, 'the second attempt waited for its time');
      await emptyQueue(t.dataDir);
    } finally {
      await t.close();
    }
  } finally {
    await sink.close();
    await rm(work, { recursive: true, force: true });
  }
});

test('out of retries (older than maxAgeMs): the next temporary failure bounces with 4.4.7', async () => {
  const sink = await startSmtpSink({ rcpt: () => ({ code: 421, text: '4.3.0 shutting down' }) });
  const work = await mkdtemp(path.join(tmpdir(), 'pochta-queue-old-'));
  const id = newQueueId(Date.now() - 3_600_000);
  const queue = path.join(work, 'data', 'queue');
  await mkdir(queue, { recursive: true });
  const env: SpoolEnvelope = {
    v: 1, id, receivedAt: Date.now() - 3_600_000, size: 20,
    mailFrom: { address: 'alice@sender.test', args: {}, smtpUtf8: false, body: '7bit', requireTls: false },
    client: { address: '127.0.0.1', listener: 'mx', secure: false }, headerEdits: [],
    recipients: [{ address: 'old@remote.test', target: { kind: 'remote', address: 'old@remote.test' }, state: 'pending', attempts: 3, lastAttemptAt: Date.now() - 60_000 }],
  };
  await writeFile(path.join(queue, `${id}.msg`), 'Subject: old\r\n\r\nx\r\n');
  await writeFile(path.join(queue, `${id}.env`), JSON.stringify(env));
  const t = await startQueueServer(sink, { maxAgeMs: 60_000 }, work);
  try {
    await emptyQueue(t.dataDir);
    const notices = await jsonLines(t.notices);
    assert.equal(notices.length, 1);
    assert.equal(notices[0].recipients[0].status, '4.4.7');
    assert.equal(notices[0].recipients[0].action, 'failed');
    const ev = (await jsonLines(t.events)).find((e) => e.hook === 'bounced');
    assert.match(String(ev?.reason), /gave up after 4 attempts/);
  } finally {
    await t.close();
    await sink.close();
  }
});
