import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { editUsersFile } from '../../plugins/auth-file/users-file.ts';
import { hashPassword } from '../../plugins/auth-file/password.ts';

export async function addUser(dataDir: string, id: string, password: string): Promise<void> {
  await editUsersFile(path.join(dataDir, 'users.yaml'), { op: 'add', id, password: await hashPassword(password) });
}

/** Every message file in a user's Maildir INBOX (new/ and cur/), contents as latin1 strings. */
export async function readInbox(dataDir: string, user: string, folder = ''): Promise<string[]> {
  const [local, domain] = user.split('@') as [string, string];
  const root = path.join(dataDir, 'mail', domain, local, folder ? `.${folder}` : '');
  const out: string[] = [];
  for (const sub of ['new', 'cur']) {
    let names: string[] = [];
    try {
      names = (await readdir(path.join(root, sub))).sort();
    } catch {
      continue;
    }
    for (const n of names) out.push(await readFile(path.join(root, sub, n), 'latin1'));
  }
  return out;
}

/** Poll until `check` returns a value (not undefined/false), at most `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false | null> | T | undefined | false | null, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface SendOptions {
  port: number;
  from: string;
  to: string[];
  raw: string | Buffer;
  /** Implicit TLS (submissions). */
  secure?: boolean;
  /** STARTTLS required (submission). */
  starttls?: boolean;
  auth?: { user: string; pass: string; method?: 'PLAIN' | 'LOGIN' };
}

export interface SendResult {
  accepted: string[];
  rejected: string[];
  response: string;
}

/** Send one message with nodemailer's SMTP client over loopback. */
export async function send(o: SendOptions): Promise<SendResult> {
  const conn = new SMTPConnection({
    host: '127.0.0.1',
    port: o.port,
    secure: Boolean(o.secure),
    ...(o.starttls ? { requireTLS: true } : o.secure ? {} : { ignoreTLS: true }),
    tls: { rejectUnauthorized: false },
    name: 'client.test',
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once('error', reject);
      conn.connect(() => resolve());
    });
    if (o.auth) {
      await new Promise<void>((resolve, reject) =>  conn.login({ user: o.auth!.user, pass: o.auth!.pass, ...(o.auth!.method ? { method: o.auth!.method } : {}) }, (err) => (err ? reject(err) : resolve())));
    }
    return await new Promise<SendResult>((resolve, reject) => {
      conn.send({ from: o.from, to: o.to }, o.raw, (err, info) => (err ? reject(err) : resolve(info)));
    });
  } finally {
    conn.quit();
    conn.close();
  }
}
