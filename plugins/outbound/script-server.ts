/**
 * A scripted SMTP peer for the client tests: a real TCP server on 127.0.0.1 (port 0) whose
 * replies a test decides line by line, for what smtp-server will not do (garbage, a reply cut
 * off, a DATA refusal, holding replies until the pipelined group is complete).
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

export interface ScriptSession {
  readonly socket: Socket;
  /** Command lines received, in order ("." ends each message body). */
  readonly commands: string[];
  /** Message bodies received (as sent, still dot-stuffed, without the terminator line). */
  readonly bodies: string[];
  /** Each chunk as it arrived from the socket. */
  readonly chunks: string[];
  send(text: string): void;
}

/**
 * `onLine` answers a command line (a string is sent with CRLF; undefined sends nothing) and
 * `'<end of data>'` after a body. After a reply starting with 354 the peer reads a body.
 */
export interface Script {
  /** The greeting; null: accept and never greet. */
  readonly greeting?: string | null;
  onLine(line: string, s: ScriptSession): string | undefined;
}

export interface ScriptServer {
  readonly port: number;
  readonly sessions: ScriptSession[];
  close(): Promise<void>;
}

export async function startScript(script: Script): Promise<ScriptServer> {
  const sessions: ScriptSession[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let carry = '';
    let inData = false;
    let body = '';
    const s: ScriptSession = {
      socket, commands: [], bodies: [], chunks: [],
      send: (text) => {
        if (!socket.destroyed) socket.write(text);
      },
    };
    sessions.push(s);
    const answer = (line: string) => {
      const r = script.onLine(line, s);
      if (r === undefined) return;
      s.send(`${r}\r\n`);
      if (r.startsWith('354')) inData = true;
    };
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      s.chunks.push(text);
      carry += text;
      for (let nl = carry.indexOf('\r\n'); nl >= 0; nl = carry.indexOf('\r\n')) {
        const line = carry.slice(0, nl);
        carry = carry.slice(nl + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            s.bodies.push(body);
            body = '';
            s.commands.push('.');
            answer('<end of data>');
          } else body += `${line}\r\n`;
          continue;
        }
        s.commands.push(line);
        answer(line);
      }
    });
    if (script.greeting !== null) socket.write(`${script.greeting ?? '220 scripted ready'}\r\n`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    sessions,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A plain, well-behaved script: EHLO with these keywords, 250 to everything, 354 to DATA. */
export function basicReplies(keywords: readonly string[]): (line: string) => string | undefined {
  return (line) => {
    const verb = line.split(' ')[0].toUpperCase();
    if (verb === 'EHLO') return ['250-scripted', ...keywords.map((k) => `250-${k}`), '250 ENHANCEDSTATUSCODES'].join('\r\n');
    if (verb === 'DATA') return '354 go ahead';
    if (verb === 'QUIT') return '221 2.0.0 bye';
    if (line === '<end of data>') return '250 2.0.0 queued';
    return '250 2.1.0 ok';
  };
}
