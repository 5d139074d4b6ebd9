/**
 * SMTP replies as a client reads them (RFC 5321 §4.2): pure and bounded. Bytes go in as they
 * arrive; complete replies come out, each possibly multi-line ("250-…" lines, then "250 …").
 */

/** One complete reply: the code and the raw lines as received (CRLF dropped). */
export interface SmtpReply {
  readonly code: number;
  readonly lines: readonly string[];
}

/** The reply as one text, "250-first\n250 last": the form parseReply/parseEhlo read. */
export const replyText = (r: SmtpReply): string => r.lines.join('\n');

export class ReplyFormatError extends Error {}

export interface ReplyLimits {
  /** Longest reply line accepted, CRLF excluded (RFC 5321 §4.5.3.1.5 says 512; servers exceed it). */
  readonly maxLineLength: number;
  /** Most lines in one reply (an EHLO reply has one per extension). */
  readonly maxLines: number;
}

export const DEFAULT_REPLY_LIMITS: ReplyLimits = { maxLineLength: 2048, maxLines: 128 };

const LINE = /^([2-5]\d\d)(?:([ -])(.*))?$/s;

/**
 * Incremental reply parser. `push` returns the replies completed by this chunk and throws a
 * ReplyFormatError on anything that is not a reply (then the connection is unusable: the
 * caller closes it). Bare LF ends a line too; a CR before it is dropped.
 */
export class ReplyParser {
  #carry = '';
  #lines: string[] = [];
  #code = 0;
  constructor(readonly limits: ReplyLimits = DEFAULT_REPLY_LIMITS) {}

  /** True while part of a reply (a line or earlier lines of a multi-line reply) is held. */
  get pending(): boolean {
    return this.#carry.length > 0 || this.#lines.length > 0;
  }

  push(chunk: Buffer): SmtpReply[] {
    // latin1 keeps one char per byte, so lengths are byte counts; lines are re-decoded as UTF-8.
    const text = this.#carry + chunk.toString('latin1');
    const out: SmtpReply[] = [];
    let pos = 0;
    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break;
      const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (end - pos > this.limits.maxLineLength) throw new ReplyFormatError('reply line too long');
      const reply = this.#line(text.slice(pos, end));
      if (reply) out.push(reply);
      pos = nl + 1;
    }
    this.#carry = text.slice(pos);
    if (this.#carry.length > this.limits.maxLineLength + 1) throw new ReplyFormatError('reply line too long');
    return out;
  }

  #line(raw: string): SmtpReply | undefined {
    const m = LINE.exec(raw);
    if (!m) throw new ReplyFormatError(`not an SMTP reply: ${JSON.stringify(raw.slice(0, 80))}`);
    const code = Number(m[1]);
    // RFC 5321 §4.2.1: every line of a multi-line reply carries the same code.
    if (this.#lines.length && code !== this.#code) throw new ReplyFormatError('reply code changed inside a multi-line reply');
    if (this.#lines.length >= this.limits.maxLines) throw new ReplyFormatError('reply has too many lines');
    this.#code = code;
    this.#lines.push(Buffer.from(raw, 'latin1').toString('utf8'));
    if (m[2] === '-') return undefined;
    const reply = { code, lines: this.#lines };
    this.#lines = [];
    return reply;
  }
}

/** EHLO keywords (upper case) and their parameters, from the EHLO reply (RFC 5321 §4.1.1.1). */
export function parseEhlo(reply: string): Map<string, string> {
  const ext = new Map<string, string>();
  const lines = reply.split(/\r?\n/).map((l) => l.replace(/^\d{3}[ -]?/, '').trim());
  for (const line of lines.slice(1)) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:[ =](.*))?$/.exec(line);
    if (m) ext.set(m[1].toUpperCase(), m[2] ?? '');
  }
  return ext;
}

/**
 * xtext (RFC 3461 §4): bytes outside "!".."~", and "+" and "=", as "+XX" (upper-case hex) of
 * their UTF-8 encoding. Used for ENVID and ORCPT (and harmless on RET and NOTIFY).
 */
export function xtext(value: string): string {
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    out += b < 33 || b > 126 || b === 43 || b === 61 ? `+${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}
