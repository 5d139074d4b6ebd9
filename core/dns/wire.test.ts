import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerFor, encodeQuery, nameLabels, parseResponse, QTYPE, readName, WireError } from './wire.ts';

const hdr = (o: { id?: number; flags?: number; qd?: number; an?: number } = {}) => {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.id ?? 7, 0);
  h.writeUInt16BE(o.flags ?? 0x8180, 2);
  h.writeUInt16BE(o.qd ?? 1, 4);
  h.writeUInt16BE(o.an ?? 0, 6);
  return h;
};
const name = (n: string) => Buffer.concat([...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
const rr = (owner: Buffer, type: number, ttl: number, rdata: Buffer) => {
  const f = Buffer.alloc(10);
  f.writeUInt16BE(type, 0);
  f.writeUInt16BE(1, 2);
  f.writeUInt32BE(ttl, 4);
  f.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, f, rdata]);
};
const question = (n: string, type: number) => Buffer.concat([name(n), Buffer.from([0, type, 0, 1])]);

test('a query: header with RD, one question, an EDNS0 OPT record of 1232 octets (RFC 6891)', () => {
  const q = encodeQuery(0xbeef, nameLabels('mx.Example.test')!, QTYPE.MX);
  assert.equal(q.readUInt16BE(0), 0xbeef);
  assert.equal(q.readUInt16BE(2), 0x0100);
  assert.deepStrictEqual([q.readUInt16BE(4), q.readUInt16BE(6), q.readUInt16BE(8), q.readUInt16BE(10)], [1, 0, 0, 1]);
  assert.equal(readName(q, 12).name, 'mx.Example.test');
  const opt = 12 + name('mx.Example.test').length + 4;
  assert.deepStrictEqual([q[opt], q.readUInt16BE(opt + 1), q.readUInt16BE(opt + 3)], [0, 41, 1232]);
  assert.equal(q.length, opt + 11);
  const plain = encodeQuery(0xbeef, nameLabels('mx.Example.test')!, QTYPE.MX, false);
  assert.equal(plain.readUInt16BE(10), 0);
  assert.deepStrictEqual(plain, q.subarray(0, opt).map((b, i) => (i === 11 ? 0 : b)));
});

test('names that cannot be sent: empty labels, a label over 63 octets, a name over 255', () => {
  assert.equal(nameLabels('a..b'), undefined);
  assert.equal(nameLabels(`${'x'.repeat(64)}.test`), undefined);
  assert.equal(nameLabels(Array.from({ length: 130 }, () => 'ab').join('.')), undefined);
  assert.deepStrictEqual(nameLabels('example.test.')?.map(String), ['example', 'test']);
  assert.deepStrictEqual(nameLabels(''), []);
});

test('compression pointers: followed backwards, loops and forward pointers refused', () => {
  const owner = name('a.test');
  // Second name: "b" + pointer to offset 12 ("a.test").
  const msg = Buffer.concat([hdr({ qd: 0 }), owner, Buffer.from([1, 0x62, 0xc0, 12])]);
  assert.deepStrictEqual(readName(msg, 12 + owner.length), { name: 'b.a.test', next: msg.length });
  const self = Buffer.concat([hdr({ qd: 0 }), Buffer.from([0xc0, 12])]);
  assert.throws(() => readName(self, 12), WireError);
  const forward = Buffer.concat([hdr({ qd: 0 }), Buffer.from([0xc0, 14, 0])]);
  assert.throws(() => readName(forward, 12), WireError);
  assert.throws(() => readName(Buffer.concat([hdr({ qd: 0 }), Buffer.from([5, 0x61])]), 12), WireError);
  assert.throws(() => readName(Buffer.concat([hdr({ qd: 0 }), Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0])]), 12), WireError);
});

test('labels with dots, backslashes and non-printable octets are escaped as c-ares does', () => {
  const msg = Buffer.concat([hdr({ qd: 0 }), Buffer.from([3, 0x61, 0x2e, 0x01, 1, 0x5c, 0])]);
  assert.equal(readName(msg, 12).name, 'a\\.\\001.\\\\');
});

test('responses: not a response, implausible counts, records running past the end', () => {
  assert.throws(() => parseResponse(Buffer.alloc(5)), WireError);
  assert.throws(() => parseResponse(Buffer.concat([hdr({ flags: 0x0100 }), question('a.test', 1)])), /not a response/);
  assert.throws(() => parseResponse(Buffer.concat([hdr({ qd: 2 }), question('a.test', 1)])), /implausible/);
  const cut = Buffer.concat([hdr({ an: 1 }), question('a.test', 1), rr(name('a.test'), 1, 60, Buffer.from([1, 2, 3, 4]))]);
  assert.throws(() => parseResponse(cut.subarray(0, cut.length - 2)), /runs past/);
  // Truncated (TC): the records present are read, a record cut short ends the section.
  const tc = Buffer.concat([hdr({ an: 2, flags: 0x8380 }), question('a.test', 1), rr(name('a.test'), 1, 60, Buffer.from([1, 2, 3, 4]))]);
  const r = parseResponse(tc);
  assert.equal(r.truncated, true);
  assert.equal(r.answers.length, 1);
});

test('answers: values of each type, CNAME chain with the lowest TTL, TTL with the top bit set is 0 (RFC 2181 §8)', () => {
  const aaaa = Buffer.from('20010db8000000000000000000000001', 'hex');
  const txt = Buffer.concat([Buffer.from([3]), Buffer.from('v=x'), Buffer.from([2]), Buffer.from('yz')]);
  const mx = Buffer.concat([Buffer.from([0, 10]), name('mx.a.test')]);
  const msg = (qn: string, type: number, answers: Buffer[]) => Buffer.concat([hdr({ an: answers.length }), question(qn, type), ...answers]);
  const get = (qn: string, type: 'A' | 'AAAA' | 'TXT' | 'MX' | 'PTR', answers: Buffer[]) => {
    const m = msg(qn, QTYPE[type], answers);
    return answerFor(m, parseResponse(m), qn, type);
  };
  assert.deepStrictEqual(get('a.test', 'AAAA', [rr(name('a.test'), 28, 60, aaaa)]), { values: ['2001:db8::1'], ttl: 60 });
  assert.deepStrictEqual(get('a.test', 'TXT', [rr(name('a.test'), 16, 60, txt)]), { values: [['v=x', 'yz']], ttl: 60 });
  assert.deepStrictEqual(get('a.test', 'MX', [rr(name('a.test'), 15, 60, mx)]), { values: [{ priority: 10, exchange: 'mx.a.test' }], ttl: 60 });
  assert.deepStrictEqual(get('x.test', 'A', [rr(name('x.test'), 5, 30, name('y.test')), rr(name('y.test'), 1, 90, Buffer.from([192, 0, 2, 1]))]), { values: ['192.0.2.1'], ttl: 30 });
  assert.deepStrictEqual(get('a.test', 'A', [rr(name('a.test'), 1, 0x80000000, Buffer.from([192, 0, 2, 1]))]), { values: ['192.0.2.1'], ttl: 0 });
  assert.equal(get('a.test', 'A', [rr(name('other.test'), 1, 60, Buffer.from([192, 0, 2, 1]))]), undefined);
  assert.throws(() => get('a.test', 'A', [rr(name('a.test'), 1, 60, Buffer.from([1, 2, 3]))]), WireError);
  assert.throws(() => get('a.test', 'TXT', [rr(name('a.test'), 16, 60, Buffer.from([9, 0x61]))]), WireError);
});
