/**
 * A stub resolver client for A, AAAA, MX, TXT and PTR over UDP sockets that stay open, with TCP
 * when an answer is truncated (RFC 7766). Why not node's resolver for these: c-ares closes its
 * sockets whenever no query is outstanding, so a mail server's bursts of lookups paid a new socket
 * for nearly every query (socket, connect, getsockname, fcntl ×3, ioctl, epoll_ctl ×5, close: ~18
 * system calls) where this sends one datagram and reads one. In bench/protection the full set's
 * CPU per message fell 5–14 % with it (c-ares 2.59–2.60 → 2.24–2.40 ms at 32 sessions).
 *
 * One socket per server, connected to it: answers are only taken from the server asked, with the
 * query's random ID and its question (RFC 5452 §9.1), and a server nobody listens on answers with
 * ICMP, so its lookups move on at once (ECONNREFUSED) instead of waiting out their time. Sockets
 * are replaced after ROTATE_AFTER queries so the source port changes too.
 * Errors carry node's codes (ENOTFOUND, ENODATA, ESERVFAIL, ETIMEOUT …), which mailauth tests for.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { DnsError, ETIMEOUT } from './errors.ts';
import { answerFor, encodeQuery, nameLabels, parseResponse, QTYPE, WireError, type Response, type WireType } from './wire.ts';

export interface WireServer {
  address: string;
  port: number;
  family: 4 | 6;
}

export interface WireAnswer {
  values: unknown[];
  ttl: number;
}

/** Queries per socket before a fresh one (and a fresh source port) takes over. */
const ROTATE_AFTER = 4096;
/** Largest DNS message over TCP (its length prefix is 16 bits). */
const MAX_TCP_MESSAGE = 65_535;

/** RCODEs (RFC 1035 §4.1.1) another server might answer differently, with node's codes. */
const RETRYABLE: Record<number, string> = { 1: 'EFORMERR', 2: 'ESERVFAIL', 4: 'ENOTIMP', 5: 'EREFUSED' };

/** "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53" → a server, or undefined when it is not an IP address. */
export function parseServer(spec: string): WireServer | undefined {
  let host = spec;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracket) {
    host = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else if (net.isIPv4(spec.replace(/:\d+$/, '')) && spec.includes(':')) {
    host = spec.slice(0, spec.lastIndexOf(':'));
    port = Number(spec.slice(spec.lastIndexOf(':') + 1));
  }
  // A scoped IPv6 address (fe80::1%eth0) loses its scope in a SocketAddress: left to node's resolver.
  if (host.includes('%')) return undefined;
  const family = net.isIP(host);
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  // The form the kernel reports as a datagram's source, so answers can be matched to it.
  const address = new net.SocketAddress({ address: host, family: family === 6 ? 'ipv6' : 'ipv4' }).address;
  return { address, port, family: family === 6 ? 6 : 4 };
}

interface Query {
  name: string;
  type: WireType;
  labels: Buffer[];
  attempt: number;
  /** Sent without EDNS: the server answered FORMERR to the OPT record. */
  plain?: boolean;
  resolve(a: WireAnswer): void;
  reject(e: Error): void;
}

interface Sock {
  socket: dgram.Socket;
  pending: Map<number, Pending>;
  sent: number;
  /** Queries sent while the socket connects (dgram takes no datagram for a connecting socket). */
  waiting: Pending[] | undefined;
}

interface Pending {
  query: Query;
  server: WireServer;
  sock: Sock;
  id: number;
  timer: NodeJS.Timeout;
}

export class WireClient {
  readonly #servers: readonly WireServer[];
  readonly #attempts: number;
  readonly #perTryMs: number;
  /** The socket new queries to a server go to: connected to it (RFC 5452 §9.1 for free, and a
   * resolver that is down answers with ICMP: ECONNREFUSED at once, the next server then). */
  readonly #socks = new Map<WireServer, Sock>();
  /** Every open socket, rotated-out ones still waiting for answers included. */
  readonly #open = new Set<Sock>();
  readonly #tcp = new Set<net.Socket>();
  #ids = Buffer.alloc(0);
  #idAt = 0;
  #closed = false;

  /** `timeoutMs` is for the whole lookup: it is split over the attempts (`tries`, and at least one per server). */
  constructor(servers: readonly WireServer[], opts: { timeoutMs: number; tries: number }) {
    if (!servers.length) throw new Error('no DNS servers');
    this.#servers = servers;
    this.#attempts = Math.max(opts.tries, servers.length);
    this.#perTryMs = Math.max(50, Math.floor(opts.timeoutMs / this.#attempts));
  }

  query(name: string, type: WireType): Promise<WireAnswer> {
    const labels = nameLabels(name);
    if (!labels) return Promise.reject(new DnsError('EBADNAME', type, name, `${type} ${name}: not a valid domain name`));
    return new Promise<WireAnswer>((resolve, reject) => {
      this.#send({ name, type, labels, attempt: 0, resolve, reject });
    });
  }

  /** Fails every lookup in flight with ECANCELLED and closes the sockets. */
  close(): void {
    this.#closed = true;
    for (const s of [...this.#open]) this.#drop(s, 'ECANCELLED');
    this.#socks.clear();
    for (const t of this.#tcp) t.destroy();
  }

  #nextId(pending: Map<number, Pending>): number {
    for (;;) {
      if (this.#idAt + 2 > this.#ids.length) {
        this.#ids = randomBytes(512);
        this.#idAt = 0;
      }
      const id = this.#ids.readUInt16BE(this.#idAt);
      this.#idAt += 2;
      if (!pending.has(id)) return id;
    }
  }

  #sock(server: WireServer): Sock {
    const current = this.#socks.get(server);
    if (current && current.sent < ROTATE_AFTER) return current;
    // The old socket stays open for its answers still on the way and closes when they are in.
    if (current && current.pending.size === 0) this.#closeSock(current);
    const socket = dgram.createSocket(server.family === 6 ? 'udp6' : 'udp4');
    const s: Sock = { socket, pending: new Map(), sent: 0, waiting: [] };
    socket.on('message', (buf, from) => this.#onMessage(s, buf, from));
    socket.on('error', () => {
      // A socket that fails (ICMP port unreachable: nobody listens there; send errors): its
      // queries go on to their next attempt, on a new socket.
      if (this.#socks.get(server) === s) this.#socks.delete(server);
      this.#drop(s);
    });
    socket.unref();
    socket.connect(server.port, server.address, () => {
      const waiting = s.waiting ?? [];
      s.waiting = undefined;
      for (const p of waiting) this.#write(p);
    });
    this.#socks.set(server, s);
    this.#open.add(s);
    return s;
  }

  #closeSock(s: Sock): void {
    this.#open.delete(s);
    try {
      s.socket.close();
    } catch {
      // already closed
    }
  }

  /** Close a socket; its queries fail with `code`, or go to their next attempt when none is given. */
  #drop(s: Sock, code?: string): void {
    const pending = [...s.pending.values()];
    s.pending.clear();
    this.#closeSock(s);
    for (const p of pending) {
      clearTimeout(p.timer);
      if (code) p.query.reject(new DnsError(code, p.query.type, p.query.name));
      else this.#next(p.query, 'ECONNREFUSED');
    }
  }

  #send(q: Query): void {
    if (this.#closed) return q.reject(new DnsError('ECANCELLED', q.type, q.name));
    const server = this.#servers[q.attempt % this.#servers.length];
    const s = this.#sock(server);
    const id = this.#nextId(s.pending);
    const p: Pending = { query: q, server, sock: s, id, timer: setTimeout(() => this.#timedOut(p), this.#perTryMs) };
    p.timer.unref();
    s.pending.set(id, p);
    // Held open only while a query waits (as node's resolver does: a CLI awaiting a lookup must not exit).
    if (s.pending.size === 1) s.socket.ref();
    s.sent++;
    if (s.waiting) s.waiting.push(p);
    else {
      this.#outbox.push(p);
      if (this.#outbox.length === 1) setImmediate(this.#flush);
    }
  }

  /**
   * Queries of one event-loop turn go out together, after its I/O callbacks. A datagram that finds
   * the resolver asleep pays for waking it (an inter-processor interrupt, dear on a VM); the ones
   * right behind it find it awake. bench/protection, full set at 32 sessions: the sends' CPU fell
   * from ~0.17 to ~0.035 ms per message, the whole message's by 15 % (unbound's own by half).
   */
  readonly #outbox: Pending[] = [];
  readonly #flush = (): void => {
    for (const p of this.#outbox.splice(0)) this.#write(p);
  };

  #write(p: Pending): void {
    // Given up (timed out, the socket dropped) while it waited for the connect or the flush.
    if (p.sock.pending.get(p.id) !== p) return;
    p.sock.socket.send(encodeQuery(p.id, p.query.labels, QTYPE[p.query.type], !p.query.plain), (err) => {
      if (err && this.#finish(p)) this.#next(p.query, 'ECONNREFUSED');
    });
  }

  /** Take `p` out of its socket's table; false when it was already answered or given up. */
  #finish(p: Pending): boolean {
    if (p.sock.pending.get(p.id) !== p) return false;
    p.sock.pending.delete(p.id);
    clearTimeout(p.timer);
    if (p.sock.pending.size === 0) p.sock.socket.unref();
    // A rotated-out socket closes once its last answer is in.
    if (p.sock.pending.size === 0 && this.#socks.get(p.server) !== p.sock) this.#closeSock(p.sock);
    return true;
  }

  #timedOut(p: Pending): void {
    if (this.#finish(p)) this.#next(p.query, ETIMEOUT);
  }

  /** The next attempt (the next server in turn), or the error when none is left. */
  #next(q: Query, code: string): void {
    q.attempt++;
    if (q.attempt < this.#attempts && !this.#closed) return this.#send(q);
    q.reject(new DnsError(code, q.type, q.name, code === ETIMEOUT ? `${q.type} ${q.name}: no answer` : undefined));
  }

  #onMessage(s: Sock, buf: Buffer, from: dgram.RemoteInfo): void {
    let res: Response;
    try {
      res = parseResponse(buf);
    } catch {
      return; // not a DNS response we can read: whatever it is, the query's timer stays in charge
    }
    const p = s.pending.get(res.id);
    // Only the server we asked, answering our question (RFC 5452 §9.1); anything else is dropped.
    if (!p || from.address !== p.server.address || from.port !== p.server.port || !this.#isOurs(p.query, res)) return;
    this.#finish(p);
    if (res.truncated) this.#overTcp(p.query, p.server);
    else this.#settle(p.query, buf, res);
  }

  #isOurs(q: Query, res: Response): boolean {
    const question = res.question;
    return question !== undefined && question.type === QTYPE[q.type] && question.cls === 1
      && question.name.toLowerCase() === q.name.replace(/\.$/, '').toLowerCase();
  }

  #settle(q: Query, buf: Buffer, res: Response): void {
    if (res.rcode === 0) {
      let a: WireAnswer | undefined;
      try {
        a = answerFor(buf, res, q.name, q.type);
      } catch (err) {
        return q.reject(new DnsError('EBADRESP', q.type, q.name, `${q.type} ${q.name}: bad response (${(err as Error).message})`));
      }
      if (a) q.resolve(a);
      else q.reject(new DnsError('ENODATA', q.type, q.name));
    } else if (res.rcode === 3) {
      q.reject(new DnsError('ENOTFOUND', q.type, q.name));
    } else if (res.rcode === 1 && !q.plain) {
      // FORMERR to a query with an OPT record: a server without EDNS. Ask it again, plainly, in the
      // same attempt (RFC 6891 §7); a plain query that also gets FORMERR moves on.
      q.plain = true;
      this.#send(q);
    } else {
      this.#next(q, RETRYABLE[res.rcode] ?? 'EBADRESP');
    }
  }

  /** The same question over TCP (RFC 7766 §5), within one attempt's time; a failure moves on. */
  #overTcp(q: Query, server: WireServer): void {
    if (this.#closed) return q.reject(new DnsError('ECANCELLED', q.type, q.name));
    const id = this.#nextId(new Map());
    const msg = encodeQuery(id, q.labels, QTYPE[q.type], !q.plain);
    const frame = Buffer.allocUnsafe(2 + msg.length);
    frame.writeUInt16BE(msg.length, 0);
    msg.copy(frame, 2);
    const sock = net.connect({ host: server.address, port: server.port });
    this.#tcp.add(sock);
    let done = false;
    const chunks: Buffer[] = [];
    let got = 0;
    const end = (outcome: { buf: Buffer; res: Response } | string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.#tcp.delete(sock);
      sock.destroy();
      if (typeof outcome === 'string') this.#next(q, outcome);
      else this.#settle(q, outcome.buf, outcome.res);
    };
    const timer = setTimeout(() => end(ETIMEOUT), this.#perTryMs);
    timer.unref();
    sock.on('connect', () => sock.write(frame));
    sock.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got > MAX_TCP_MESSAGE + 2) return end('EBADRESP');
      chunks.push(chunk);
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (all.length < 2 || all.length < 2 + all.readUInt16BE(0)) return;
      const buf = all.subarray(2, 2 + all.readUInt16BE(0));
      try {
        const res = parseResponse(buf);
        if (res.id !== id || !this.#isOurs(q, res)) return end('EBADRESP');
        end({ buf, res });
      } catch (err) {
        end(err instanceof WireError ? 'EBADRESP' : 'ECONNREFUSED');
      }
    });
    sock.on('error', () => end('ECONNREFUSED'));
    sock.on('close', () => end('ECONNREFUSED'));
  }
}
