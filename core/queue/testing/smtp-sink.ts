import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  from: string;
  to: string[];
  raw: string;
}

export interface SmtpSink {
  port: number;
  messages: SinkMessage[];
  /** RCPT TO seen, per address (lower-case), counting refused ones. */
  rcptCount(address: string): number;
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 (port 0) that plays the next hop: `rcpt` decides the reply to
 * each RCPT TO (undefined accepts), given the address and how often it was seen before.
 */
export async function startSmtpSink(opts: { rcpt?: (address: string, seen: number) => { code: number; text: string } | undefined; hideDsn?: boolean; dataDelayMs?: number } = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const seen = new Map<string, number>();
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    hideDSN: Boolean(opts.hideDsn),
    logger: false,
    onRcptTo(addr, _session, cb) {
      const a = addr.address.toLowerCase();
      const n = seen.get(a) ?? 0;
      seen.set(a, n + 1);
      const r = opts.rcpt?.(a, n);
      if (!r) return cb();
      cb(Object.assign(new Error(r.text), { responseCode: r.code }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('latin1'),
        });
        const done = () => cb(null, 'queued');
        if (opts.dataDelayMs) setTimeout(done, opts.dataDelayMs);
        else done();
      });
    },
  });
  // A client that dies mid-session (kill -9 tests) resets its connection: not the sink's failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    messages,
    rcptCount: (a) => seen.get(a.toLowerCase()) ?? 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
