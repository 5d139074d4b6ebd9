// The benchmark's mail: deterministic, realistic messages (display names, some encoded words,
// threads, multipart/alternative, small attachments), 1 in 100 containing the search needle.
import { MaildirStore } from '../../plugins/maildir/maildir-store.ts';

export const NEEDLE = 'xylophone';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will more can said who its about into some them only new time could these two may first then do any like my now over such our man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');
const NAMES = ['Alice Martin', 'Bob Schulz', 'Carol Dupont', 'Dmitri Ivanov', 'Eve Kowalski', 'Frank Müller', 'Grace Hopper', 'Heidi Jensen', 'Ivan Petrov', 'Judy Chen'];

function words(r: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(r() * WORDS.length)] ?? 'word');
  return out.join(' ');
}

function wrap(text: string): string {
  return text.replace(/(.{1,72})(\s+|$)/g, '$1\r\n');
}

function addr(r: () => number, i: number): string {
  const name = NAMES[Math.floor(r() * NAMES.length)] ?? 'X';
  const local = name.toLowerCase().replace(/[^a-z]+/g, '.');
  const display = /[^\x20-\x7e]/.test(name) ? `=?UTF-8?B?${Buffer.from(name).toString('base64')}?=` : `"${name}"`;
  return `${display} <${local}${i % 7}@example${i % 13}.test>`;
}

export function makeMessage(i: number): Buffer {
  const r = rng(i + 1);
  const date = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000);
  const subject = i % 17 === 0 ? `=?UTF-8?Q?R=C3=A9union_${i}?=` : `${i % 3 === 0 ? 'Re: ' : ''}${words(r, 3 + Math.floor(r() * 6))}`;
  const lines = [
    `Return-Path: <sender${i % 50}@example.test>`,
    `Received: from mx${i % 5}.example.test (mx${i % 5}.example.test [192.0.2.${i % 250}]) by mail.bench.test with ESMTPS id ${i.toString(36)}; ${date.toUTCString()}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `From: ${addr(r, i)}`,
    `To: "Bench User" <bench@bench.test>${i % 4 === 0 ? `, ${addr(r, i + 1)}` : ''}`,
    ...(i % 5 === 0 ? [`Cc: ${addr(r, i + 2)}, ${addr(r, i + 3)}`] : []),
    `Subject: ${subject}`,
    `Message-ID: <${i}.${Math.floor(r() * 1e9)}@example.test>`,
    ...(i % 3 === 0 && i > 0 ? [`In-Reply-To: <${i - 1}@example.test>`, `References: <${i - 1}@example.test>`] : []),
    'MIME-Version: 1.0',
  ];
  let body = wrap(words(r, 150 + Math.floor(r() * 700)));
  if (i % 100 === 42) body = wrap(`${words(r, 40)} ${NEEDLE} ${words(r, 40)}`) + body;
  if (i % 5 === 1) {
    lines.push(`Content-Type: multipart/alternative; boundary="alt-${i}"`, '', `--alt-${i}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', body, `--alt-${i}`,
      'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '', wrap(Buffer.from(`<html><body><p>${body}</p></body></html>`).toString('base64').replace(/(.{76})/g, '$1 ')).replace(/ /g, ''), `--alt-${i}--`, '');
  } else if (i % 20 === 2) {
    const att = Buffer.alloc(2048 + Math.floor(r() * 4096), i % 256).toString('base64').replace(/(.{76})/g, '$1\r\n');
    lines.push(`Content-Type: multipart/mixed; boundary="mix-${i}"`, '', `--mix-${i}`, 'Content-Type: text/plain; charset=us-ascii', '', body, `--mix-${i}`,
      `Content-Type: application/octet-stream; name="data-${i}.bin"`, `Content-Disposition: attachment; filename="data-${i}.bin"`, 'Content-Transfer-Encoding: base64', '', att, `--mix-${i}--`, '');
  } else {
    lines.push('Content-Type: text/plain; charset=us-ascii', '', body);
  }
  return Buffer.from(lines.join('\r\n'));
}

/** Appends `count` messages for `user` through Pochta's own Maildir store (what delivery does). */
export async function buildMaildir(root: string, user: string, count: number, inFlight = 16): Promise<void> {
  const store = new MaildirStore({ root, hostname: 'bench.localdomain' });
  try {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        const date = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000);
        await store.append(user, 'INBOX', makeMessage(i), { internalDate: date, flags: i % 3 === 0 ? ['\\Seen'] : [] });
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  } finally {
    await store.close();
  }
}
