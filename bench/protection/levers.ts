/**
 * In-process CPU cost of each protection lever, old path vs new path, on one message like the
 * benchmark's (a 4 KB single-part text message, unsigned). A benchmark, not a test:
 *
 *     node --import tsx bench/protection/levers.ts [messages]
 *
 * CPU is this process's user+system time (process.cpuUsage) per message, so other jobs on the
 * machine change it little; clamd runs in its own process and is not counted. Prints a table.
 */
import { Readable } from 'node:stream';
import { startClamd } from '../../core/testing/clamd.ts';
import { scanStream } from '../../plugins/clamav/clamd-client.ts';
import { ClamdSessionPool } from '../../plugins/clamav/clamd-session.ts';
import { unsignedOutcome, verifyDkim } from '../../plugins/dkim-verify/verify.ts';
import { headerProcessor } from '../../plugins/spam-score/light-facts.ts';
import { mailparserFacts, readFacts } from '../../plugins/spam-score/message-facts.ts';

const N = Number(process.argv[2] ?? 1000);
const body = Array.from({ length: 60 }, (_, i) => `La de da de da ${i}: the quick brown fox jumps over the lazy dog.`).join('\r\n');
const raw = Buffer.from([
  'Received: from client.bench.test (localhost [127.0.0.1])', '\tby pochta-bench.localdomain with ESMTP id 4B2C1D', '\tfor <user@bench.test>; Fri, 27 Nov 2026 23:00:00 +0000',
  'From: <from@bench.test>', 'To: <user@bench.test>', 'Date: Fri, 27 Nov 2026 23:00:00 +0000 (UTC)', 'Message-Id: <20261127230000.4B2C1D@client.bench.test>', '', body, '',
].join('\r\n'));
const stream = () => Readable.from([raw], { objectMode: false });

/** CPU ms per call of `fn`, after a warm-up of N/4 calls. */
async function cpuPerCall(fn: () => Promise<unknown>, n = N): Promise<number> {
  for (let i = 0; i < Math.ceil(n / 4); i++) await fn();
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000 / n;
}

const noDns = () => Promise.reject(new Error('no DNS here'));
const rows: Array<[string, number, number]> = [];

rows.push(['dkim-verify: mailauth body pass → header scan (unsigned)',
  await cpuPerCall(() => verifyDkim(stream(), { resolver: noDns, sender: 'from@bench.test', minBitLength: 1024 })),
  await cpuPerCall(() => unsignedOutcome(stream()))]);

const ph = headerProcessor();
rows.push(['spam-score: mailparser facts → single-part shortcut',
  await cpuPerCall(() => mailparserFacts(stream(), 512 * 1024)),
  await cpuPerCall(() => readFacts(stream(), 512 * 1024, undefined, ph))]);

// A typical client message: text and HTML alternatives plus a small attachment.
const mime = Buffer.from([
  'From: "A. Sender" <from@bench.test>', 'To: <user@bench.test>', 'Subject: =?UTF-8?Q?Quarterly_report_=E2=9C=93?=', 'Date: Fri, 27 Nov 2026 23:00:00 +0000',
  'Message-Id: <r.1@client.bench.test>', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="m1"', '', '--m1',
  'Content-Type: multipart/alternative; boundary="a1"', '', '--a1', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '',
  body.replace(/fox/g, 'f=C3=B6x'), '--a1', 'Content-Type: text/html; charset=utf-8', '', `<html><body><p>${body.replace(/\r\n/g, '<br>')}</p></body></html>`, '--a1--',
  '--m1', 'Content-Type: application/pdf; name="r.pdf"', 'Content-Disposition: attachment; filename="r.pdf"', 'Content-Transfer-Encoding: base64', '',
  (Buffer.alloc(3000, 7).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n'), '--m1--', '',
].join('\r\n'));
const mimeStream = () => Readable.from([mime], { objectMode: false });
rows.push([`spam-score, ${mime.length} B multipart (text+HTML+PDF): mailparser → shortcut`,
  await cpuPerCall(() => mailparserFacts(mimeStream(), 512 * 1024)),
  await cpuPerCall(() => readFacts(mimeStream(), 512 * 1024, undefined, ph))]);

const clamd = await startClamd();
const pool = new ClamdSessionPool({ host: clamd.host, port: clamd.port }, { maxIdle: 4, idleMs: 10_000 });
try {
  const opts = { connectTimeoutMs: 2000, timeoutMs: 10_000 };
  const n = Math.min(N, 400);
  rows.push(['clamav: connection per message → reused IDSESSION',
    await cpuPerCall(() => scanStream({ host: clamd.host, port: clamd.port }, stream(), opts), n),
    await cpuPerCall(() => pool.scan(stream, opts), n)]);
} finally {
  pool.close();
  await clamd.stop();
}

console.log(`\nCPU ms per message in this process (${N} messages, ${raw.length} bytes each; clamav ${Math.min(N, 400)}):\n`);
console.log('| lever | before ms/msg | after ms/msg | saved |');
console.log('|---|---:|---:|---:|');
for (const [name, before, after] of rows) console.log(`| ${name} | ${before.toFixed(3)} | ${after.toFixed(3)} | ${(before - after).toFixed(3)} |`);
