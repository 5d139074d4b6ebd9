// Responsiveness probe: on its own connection, times the 220 greeting, the EHLO reply and a
// NOOP reply. NOOP touches no plugin and no DNS, so its latency is the server's event loop.
import net from 'node:net';

export interface ProbeResult {
  greetMs: number;
  ehloMs: number;
  noopMs: number;
}

/** One probe; rejects on error, an unexpected reply, or after timeoutMs in total. */
export function probeOnce(port: number, ehloName: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const t0 = performance.now();
    let last = t0;
    let buf = '';
    let step = 0; // 0 greeting, 1 EHLO, 2 NOOP
    const times: number[] = [];
    const fail = (why: string): void => {
      clearTimeout(timer);
      sock.destroy();
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail(`probe timed out at step ${step}`), timeoutMs);
    sock.on('error', (e) => fail(e.message));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.length > 8192) return fail('reply too long');
      // A complete reply ends with a line "NNN " (RFC 5321 §4.2.1: the last line has a space).
      const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buf);
      if (!m) return;
      const code = m[1] ?? '';
      const now = performance.now();
      times.push(now - last);
      last = now;
      buf = '';
      const want = step === 0 ? '220' : '250';
      if (code !== want) return fail(`step ${step}: got ${code}`);
      step++;
      if (step === 1) sock.write(`EHLO ${ehloName}\r\n`);
      else if (step === 2) sock.write('NOOP\r\n');
      else {
        clearTimeout(timer);
        sock.end('QUIT\r\n');
        resolve({ greetMs: times[0] ?? NaN, ehloMs: times[1] ?? NaN, noopMs: times[2] ?? NaN });
      }
    });
  });
}

/**
 * Starts a probe every everyMs (each on a new connection, not waiting for the previous one)
 * until stop() or maxProbes; stop() resolves with every finished probe and the failure count.
 */
export function probeLoop(port: number, ehloName: string, everyMs: number, maxProbes: number, timeoutMs: number) {
  const results: ProbeResult[] = [];
  const pending = new Set<Promise<void>>();
  let failed = 0;
  let started = 0;
  const fire = (): void => {
    if (started >= maxProbes) return;
    started++;
    const p = probeOnce(port, ehloName, timeoutMs).then(
      (r) => void results.push(r),
      () => void failed++,
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  fire();
  const timer = setInterval(fire, everyMs);
  return {
    async stop(): Promise<{ results: ProbeResult[]; failed: number }> {
      clearInterval(timer);
      await Promise.all([...pending]);
      return { results, failed };
    },
  };
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
