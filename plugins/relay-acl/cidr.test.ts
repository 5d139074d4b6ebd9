import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrProblem, contains, findNetwork, formatIp, parseCidr, parseIp, type Network } from './cidr.ts';

const net = (text: string): Network => {
  const r = parseCidr(text);
  assert.ok(r.ok, `${text}: ${r.ok ? '' : r.error}`);
  return r.network;
};
const inside = (cidr: string, ip: string) => {
  const addr = parseIp(ip);
  assert.ok(addr, `${ip} parses`);
  return contains(net(cidr), addr);
};

void test('parseIp: IPv4, IPv6, zone ids, and IPv4-mapped IPv6 folded to IPv4', () => {
  assert.deepEqual(parseIp('192.0.2.1'), { family: 4, bytes: Uint8Array.from([192, 0, 2, 1]) });
  assert.equal(formatIp(parseIp('2001:DB8::1')!), '2001:db8::1');
  assert.equal(formatIp(parseIp('fe80::1%eth0')!), 'fe80::1');
  for (const mapped of ['::ffff:10.1.2.3', '::FFFF:10.1.2.3', '::ffff:0a01:0203', '0:0:0:0:0:ffff:10.1.2.3']) {
    assert.deepEqual(parseIp(mapped), { family: 4, bytes: Uint8Array.from([10, 1, 2, 3]) }, mapped);
  }
  // IPv4-compatible (deprecated, RFC 4291 §2.5.5.1) is not mapped: it stays IPv6.
  assert.equal(parseIp('::10.1.2.3')?.family, 6);
  assert.equal(formatIp(parseIp('1:2:3:4:5:6:1.2.3.4')!), '1:2:3:4:5:6:102:304');
  assert.equal(formatIp(parseIp('1::1.2.3.4')!), '1::102:304');
  for (const bad of ['', 'localhost', '1.2.3', '256.1.1.1', '010.0.0.1', '1:2:3:4:5:6:7:8:9', '10.0.0.0/8', ' ']) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

void test('formatIp compresses the longest zero run (RFC 5952)', () => {
  assert.equal(formatIp(parseIp('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatIp(parseIp('0:0:0:0:0:0:0:0')!), '::');
  assert.equal(formatIp(parseIp('2001:db8:1:1:1:1:1:1')!), '2001:db8:1:1:1:1:1:1');
  assert.equal(formatIp(parseIp('2001:db8:0:1:1:1:1:1')!), '2001:db8:0:1:1:1:1:1');
});

void test('IPv4 networks: boundaries, /0, /32, non-octet prefixes', () => {
  assert.equal(inside('10.0.0.0/8', '10.0.0.0'), true);
  assert.equal(inside('10.0.0.0/8', '10.255.255.255'), true);
  assert.equal(inside('10.0.0.0/8', '11.0.0.0'), false);
  assert.equal(inside('10.0.0.0/8', '9.255.255.255'), false);
  assert.equal(inside('192.168.4.0/22', '192.168.7.255'), true);
  assert.equal(inside('192.168.4.0/22', '192.168.8.0'), false);
  assert.equal(inside('192.168.4.0/22', '192.168.3.255'), false);
  assert.equal(inside('172.16.0.0/12', '172.31.1.1'), true);
  assert.equal(inside('172.16.0.0/12', '172.32.0.0'), false);
  assert.equal(inside('0.0.0.0/0', '203.0.113.9'), true);
  assert.equal(inside('192.0.2.7', '192.0.2.7'), true);
  assert.equal(inside('192.0.2.7/32', '192.0.2.8'), false);
  assert.equal(inside('192.0.2.128/25', '192.0.2.127'), false);
  assert.equal(inside('192.0.2.128/25', '192.0.2.200'), true);
});

void test('IPv6 networks: prefixes inside a byte, /128, /0', () => {
  assert.equal(inside('2001:db8::/32', '2001:db8:ffff::1'), true);
  assert.equal(inside('2001:db8::/32', '2001:db9::1'), false);
  assert.equal(inside('2001:db8:8000::/33', '2001:db8:8000::1'), true);
  assert.equal(inside('2001:db8:8000::/33', '2001:db8:7fff::1'), false);
  assert.equal(inside('::1/128', '::1'), true);
  assert.equal(inside('::1', '::2'), false);
  assert.equal(inside('::/0', '2001:db8::1'), true);
  assert.equal(inside('fe80::/10', 'fe80::1%eth0'), true);
  assert.equal(inside('fe80::/10', 'fec0::1'), false);
});

void test('IPv4-mapped clients match IPv4 networks; mapped networks are IPv4 networks', () => {
  assert.equal(inside('10.0.0.0/8', '::ffff:10.1.2.3'), true);
  assert.equal(inside('10.0.0.0/8', '::ffff:11.1.2.3'), false);
  assert.equal(inside('127.0.0.1/32', '::ffff:127.0.0.1'), true);
  assert.equal(net('::ffff:10.0.0.0/104').text, '10.0.0.0/8');
  assert.equal(net('::ffff:192.0.2.1').text, '192.0.2.1/32');
  assert.equal(inside('::ffff:10.0.0.0/104', '10.9.9.9'), true);
  // Families never cross otherwise.
  assert.equal(inside('::/0', '10.0.0.1'), false);
  assert.equal(inside('0.0.0.0/0', '2001:db8::1'), false);
  assert.equal(inside('::/0', '::ffff:10.0.0.1'), false);
});

void test('parseCidr canonicalises the text', () => {
  assert.equal(net('2001:DB8:0:0::/32').text, '2001:db8::/32');
  assert.equal(net(' 10.0.0.0/8 ').text, '10.0.0.0/8');
  assert.equal(net('2001:db8::1').text, '2001:db8::1/128');
});

void test('bad networks are refused with a reason', () => {
  assert.match(cidrProblem('10.0.0.0/33') ?? '', /prefix length must be 0-32/);
  assert.match(cidrProblem('2001:db8::/129') ?? '', /prefix length must be 0-128/);
  assert.match(cidrProblem('10.0.0.0/') ?? '', /prefix length/);
  assert.match(cidrProblem('10.0.0.0/-1') ?? '', /prefix length/);
  assert.match(cidrProblem('10.0.0.0/8/8') ?? '', /prefix length/);
  assert.match(cidrProblem('10.0.0.0/ 8') ?? '', /prefix length/);
  assert.match(cidrProblem('10.0.0/8') ?? '', /not an IPv4 or IPv6 network/);
  assert.match(cidrProblem('example.test/24') ?? '', /not an IPv4 or IPv6 network/);
  assert.match(cidrProblem('') ?? '', /not an IPv4 or IPv6 network/);
  assert.match(cidrProblem('fe80::/10%eth0') ?? '', /prefix length/);
  assert.match(cidrProblem('fe80::%eth0/10') ?? '', /zone id/);
  assert.equal(cidrProblem('10.1.2.3/8'), '"10.1.2.3/8" has host bits set; did you mean 10.0.0.0/8?');
  assert.equal(cidrProblem('2001:db8::1/32'), '"2001:db8::1/32" has host bits set; did you mean 2001:db8::/32?');
  assert.equal(cidrProblem('192.168.1.1/24'), '"192.168.1.1/24" has host bits set; did you mean 192.168.1.0/24?');
});

void test('findNetwork returns the first matching network, and nothing for non-addresses', () => {
  const list = [net('192.168.0.0/16'), net('10.0.0.0/8'), net('10.1.0.0/16')];
  assert.equal(findNetwork(list, '10.1.2.3')?.text, '10.0.0.0/8');
  assert.equal(findNetwork(list, '::ffff:192.168.1.1')?.text, '192.168.0.0/16');
  assert.equal(findNetwork(list, '203.0.113.1'), undefined);
  assert.equal(findNetwork(list, 'unix-socket'), undefined);
  assert.equal(findNetwork([], '10.0.0.1'), undefined);
});
