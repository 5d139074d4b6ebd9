/** The INSTREAM client against a real clamd with test signatures (and against dead and silent peers). */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { eicar, startClamd, TEST_SIGNATURES, type TestClamd } from '../../core/testing/clamd.ts';
import { freePort } from '../../core/testing/redis-server.ts';
import { ClamdUnavailable, parseReply, scanStream } from './clamd-client.ts';
import { mimeWithAttachment } from './test-fixtures.ts';
import { startSilentServer } from '../../test/helpers/policy-server.ts';

const opts = { connectTimeoutMs: 2000, timeoutMs: 10_000 };

void test('parseReply understands clamd\'s answers', () => {
  assert.deepEqual(parseReply('stream: OK\0'), { kind: 'clean' });
  assert.deepEqual(parseReply('stream: Win.Test.EICAR_HDB-1 FOUND\0'), { kind: 'infected', name: 'Win.Test.EICAR_HDB-1' });
  assert.deepEqual(parseReply('stream: Some.Name FOUND'), { kind: 'infected', name: 'Some.Name' }, 'NUL optional');
  assert.deepEqual(parseReply('stream: Can\'t allocate memory ERROR\0'), { kind: 'error', message: 'Can\'t allocate memory', sizeLimit: false });
  assert.deepEqual(parseReply('INSTREAM size limit exceeded. ERROR\0'), { kind: 'error', message: 'INSTREAM size limit exceeded.', sizeLimit: true });
  assert.equal(parseReply('').kind, 'error');
});

describe('scanStream against a real clamd', () => {
  let clamd: TestClamd;
  before(async () => {
    clamd = await startClamd();
  });
  after(async () => clamd.stop());
  const tcp = () => ({ host: clamd.host, port: clamd.port });

  test('the EICAR file is found over TCP and over the unix socket', async () => {
    const r = await scanStream(tcp(), Readable.from([eicar()]), opts);
    assert.equal(r.kind, 'infected');
    assert.match((r as { name: string }).name, new RegExp(`^(${TEST_SIGNATURES.hdb}|${TEST_SIGNATURES.ndb})\\.UNOFFICIAL$`));
    const s = await scanStream({ socket: clamd.socket, host: 'unused', port: 1 }, Readable.from([eicar()]), opts);
    assert.equal(s.kind, 'infected');
  });

  test('EICAR inside a base64 MIME attachment is found (clamd decodes mail); a clean message is clean', async () => {
    const r = await scanStream(tcp(), Readable.from([Buffer.from(mimeWithAttachment(eicar()))]), opts);
    assert.deepEqual(r, { kind: 'infected', name: `${TEST_SIGNATURES.ndb}.UNOFFICIAL` });
    const clean = await scanStream(tcp(), Readable.from([Buffer.from(mimeWithAttachment(Buffer.from('just a text file\n')))]), opts);
    assert.deepEqual(clean, { kind: 'clean' });
  });

  test('a 4 MiB stream read line by line is scanned (gathered into chunks, with backpressure) and clean', async () => {
    const line = Buffer.from('a perfectly ordinary line of mail text, nothing to see here\r\n');
    async function* gen() {
      for (let i = 0; i < (4 * 1024 * 1024) / line.length; i++) yield line;
    }
    assert.deepEqual(await scanStream(tcp(), Readable.from(gen()), { ...opts, timeoutMs: 60_000, chunkBytes: 16 * 1024 }), { kind: 'clean' });
  });
});

void test('clamd\'s own StreamMaxLength: never a verdict (its error reply, or a reset that loses it: unavailable)', async () => {
  const clamd = await startClamd({ streamMaxLength: '1M' });
  try {
    // clamd answers "size limit exceeded" and closes; the kernel may reset the connection before
    // the answer is read, so both outcomes are legitimate: neither may pass as clean.
    const r = await scanStream({ host: clamd.host, port: clamd.port }, Readable.from([Buffer.alloc(3 * 1024 * 1024, 0x61)]), opts)
      .catch((e: unknown) => {
        if (e instanceof ClamdUnavailable) return 'unavailable' as const;
        throw e;
      });
    if (r !== 'unavailable') assert.deepEqual(r, { kind: 'error', message: 'INSTREAM size limit exceeded.', sizeLimit: true });
  } finally {
    await clamd.stop();
  }
});

void test('nothing listening: ClamdUnavailable', async () => {
  const port = await freePort();
  await assert.rejects(scanStream({ host: '127.0.0.1', port }, Readable.from([Buffer.from('x')]), opts), ClamdUnavailable);
});

void test('a clamd that never answers: ClamdUnavailable after the scan timeout, the input stream destroyed', async () => {
  const silent = await startSilentServer();
  const { port } = silent;
  try {
    const input = Readable.from([Buffer.from('hello')]);
    await assert.rejects(scanStream({ host: '127.0.0.1', port }, input, { connectTimeoutMs: 1000, timeoutMs: 300 }), (e: Error) => e instanceof ClamdUnavailable && /no verdict/.test(e.message));
  } finally {
    await silent.close();
  }
});
