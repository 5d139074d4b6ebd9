/**
 * RFC 5322 §3.4 address lists → RFC 3501 §7.4.2 address structures: (name adl mailbox host), groups as
 * (NIL NIL "group" NIL) … (NIL NIL NIL NIL). Lenient: anything unparsable becomes a best-effort mailbox.
 * Names stay raw (encoded words undecoded, quotes removed) as RFC 3501 wants.
 */

export interface Address {
  readonly name: string | null;
  readonly adl: string | null;
  readonly mailbox: string | null;
  readonly host: string | null;
}

type Token =
  | { readonly kind: 'word'; readonly text: string; readonly quoted: boolean }
  | { readonly kind: 'special'; readonly text: string }
  | { readonly kind: 'comment'; readonly text: string };

const SPECIALS = '<>@,;:';
/** Characters that end an atom-like run: white space, `"`, `(`, `[` and the specials. */
const ATOM_STOPS = new Uint8Array(128);
for (const c of ' \t\r\n"(<>@,;:[') ATOM_STOPS[c.charCodeAt(0)] = 1;
const isAtomStop = (c: number): boolean => c < 128 && ATOM_STOPS[c] === 1;
const MAX_TOKENS = 10_000;

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length && out.length < MAX_TOKENS) {
    const c = s[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '"') {
      let text = '';
      i++;
      // Runs without a quoted-pair are taken whole (one slice, not a string per character).
      for (;;) {
        let j = i;
        while (j < s.length && s.charCodeAt(j) !== 0x22 && s.charCodeAt(j) !== 0x5c) j++;
        text += s.slice(i, j);
        i = j;
        if (i >= s.length || s.charCodeAt(i) === 0x22) break;
        // A backslash: the next character is taken as it is (a lone one at the end is kept).
        if (i + 1 < s.length) i++;
        text += s[i] ?? '';
        i++;
      }
      i++;
      out.push({ kind: 'word', text, quoted: true });
    } else if (c === '(') {
      let depth = 0;
      let text = '';
      for (; i < s.length; i++) {
        const d = s[i] ?? '';
        if (d === '\\' && i + 1 < s.length) {
          i++;
          text += s[i] ?? '';
          continue;
        }
        if (d === '(') {
          if (depth++ === 0) continue;
        } else if (d === ')') {
          if (--depth === 0) {
            i++;
            break;
          }
        }
        text += d;
      }
      out.push({ kind: 'comment', text: text.trim() });
    } else if (SPECIALS.includes(c)) {
      out.push({ kind: 'special', text: c });
      i++;
    } else if (c === '[') {
      const close = s.indexOf(']', i);
      const stop = close < 0 ? s.length : close + 1;
      out.push({ kind: 'word', text: s.slice(i, stop), quoted: false });
      i = stop;
    } else {
      let j = i;
      while (j < s.length && !isAtomStop(s.charCodeAt(j))) j++;
      out.push({ kind: 'word', text: s.slice(i, j), quoted: false });
      i = j;
    }
  }
  return out;
}

const isSpecial = (t: Token | undefined, c: string): boolean => t?.kind === 'special' && t.text === c;

/** Local part as written: quoted words keep their quotes when they need them. */
function localText(words: readonly Token[]): string {
  let out = '';
  for (const t of words) {
    if (t.kind !== 'word') continue;
    out += t.quoted ? `"${t.text.replace(/(["\\])/g, '\\$1')}"` : t.text;
  }
  return out;
}

/** The texts of the word tokens in t[from, to), joined by `sep` (loops: this runs for every address of a folder). */
function wordsText(t: readonly Token[], from: number, to: number, sep: string): string {
  let out = '';
  let first = true;
  for (let k = from; k < to; k++) {
    const x = t[k];
    if (x?.kind !== 'word') continue;
    out += first ? x.text : sep + x.text;
    first = false;
  }
  return out;
}

function phraseText(words: readonly Token[]): string {
  return wordsText(words, 0, words.length, ' ');
}

export function parseAddressList(raw: string): Address[] {
  const t = tokenize(raw);
  const out: Address[] = [];
  let i = 0;
  let inGroup = false;
  while (i < t.length) {
    if (isSpecial(t[i], ',')) {
      i++;
      continue;
    }
    if (isSpecial(t[i], ';')) {
      if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
      inGroup = false;
      i++;
      continue;
    }
    // Collect words/comments up to the next structural special.
    const start = i;
    while (i < t.length && !(t[i]?.kind === 'special' && '<@,;:'.includes(t[i]?.text ?? ''))) i++;
    const words = t.slice(start, i);
    const next = t[i];
    if (isSpecial(next, ':') && !inGroup) {
      out.push({ name: null, adl: null, mailbox: phraseText(words), host: null });
      inGroup = true;
      i++;
      continue;
    }
    if (isSpecial(next, '<')) {
      i++;
      let adl: string | null = null;
      // obs-route: "@a,@b:" before the addr-spec (RFC 5322 §4.4).
      if (isSpecial(t[i], '@')) {
        const routeStart = i;
        while (i < t.length && !isSpecial(t[i], ':') && !isSpecial(t[i], '>')) i++;
        if (isSpecial(t[i], ':')) {
          adl = t.slice(routeStart, i).map((x) => x.text).join('');
          i++;
        } else i = routeStart;
      }
      const localStart = i;
      while (i < t.length && !isSpecial(t[i], '@') && !isSpecial(t[i], '>')) i++;
      const local = localText(t.slice(localStart, i));
      let host = '';
      if (isSpecial(t[i], '@')) {
        i++;
        const hostStart = i;
        while (i < t.length && !isSpecial(t[i], '>')) i++;
        host = wordsText(t, hostStart, i, '');
      }
      if (isSpecial(t[i], '>')) i++;
      // Anything else up to the separator (comments) is ignored.
      while (i < t.length && !isSpecial(t[i], ',') && !isSpecial(t[i], ';')) i++;
      const name = phraseText(words);
      out.push({ name: name === '' ? null : name, adl, mailbox: local, host });
      continue;
    }
    // addr-spec without angle brackets; a comment may carry the name: "a@b (Name)".
    let host = '';
    if (isSpecial(next, '@')) {
      i++;
      const hostStart = i;
      while (i < t.length && !isSpecial(t[i], ',') && !isSpecial(t[i], ';') && !isSpecial(t[i], '<')) i++;
      const hostToks = t.slice(hostStart, i);
      host = hostToks.filter((x) => x.kind === 'word').map((x) => x.text).join('');
      words.push(...hostToks.filter((x) => x.kind === 'comment'));
    } else if (isSpecial(next, ':') || isSpecial(next, '@') || isSpecial(next, '<')) i++;
    const local = localText(words);
    const comment = words.find((x) => x.kind === 'comment')?.text;
    if (local === '' && host === '') continue;
    out.push({ name: comment ? comment : null, adl: null, mailbox: local, host });
  }
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out;
}
