/** Loopback ports and SMTP readiness for benchmark drivers (127.0.0.1 only). */
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true when an SMTP server on 127.0.0.1:port sends a 220 greeting (then says QUIT). */
export function greets(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: LOOPBACK, port });
    let buf = '';
    const done = (ok: boolean): void => {
      clearTimeout(t);
      sock.removeAllListeners('data');
      if (ok) sock.end('QUIT\r\n');
      sock.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (/^220[ -]/m.test(buf)) done(true);
      else if (buf.length > 4096) done(false);
    });
  });
}

export interface GreetingWait {
  /** Per-try bound. Default 2000 ms. */
  readonly probeMs?: number;
  /** Pause between tries. Default 200 ms. */
  readonly pauseMs?: number;
}

/** Wait (bounded in time and tries) until 127.0.0.1:port greets 220; fail at once if the server exits. */
export async function waitForGreeting(port: number, timeoutS: number, alive: () => boolean, o: GreetingWait = {}): Promise<void> {
  const end = Date.now() + timeoutS * 1000;
  for (let i = 0; i < 10_000 && Date.now() < end; i++) {
    if (!alive()) throw new Error(`server process exited before listening on ${LOOPBACK}:${port}`);
    if (await greets(port, o.probeMs ?? 2000)) return;
    await sleep(o.pauseMs ?? 200);
  }
  throw new Error(`no SMTP greeting on ${LOOPBACK}:${port} within ${timeoutS}s`);
}
