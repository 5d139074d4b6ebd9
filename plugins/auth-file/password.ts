/**
 * Password hashing with scrypt (RFC 7914) from node:crypto, stored as a PHC-like string:
 *
 *   $scrypt$ln=15,r=8,p=1$<salt, base64 without padding>$<hash, base64 without padding>
 *
 * `ln` is log2 of the cost N. Verification reads the parameters from the stored string, so hashes
 * made with other (bounded) parameters keep working after the defaults change.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly ln: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
}

export interface ParsedHash extends ScryptParams {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/**
 * N = 2^15, r = 8, p = 1: 32 MiB and roughly 50-100 ms per hash on current hardware; the parameters
 * golang.org/x/crypto/scrypt recommends for interactive logins. OWASP asks for N = 2^17 (128 MiB)
 * for web logins; a mail server verifies on every IMAP/POP3/SMTP login, often several at once, so
 * the default stays at 2^15 and `hash.ln` raises it (existing hashes keep their own parameters).
 */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ ln: 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** What scrypt may allocate for one hash; a stored hash asking for more is refused (a crafted file must not exhaust memory). */
export const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
/** Longest password hashed, in UTF-16 code units; longer ones simply fail. */
export const MAX_PASSWORD_LENGTH = 1024;

/** The memory scrypt needs: 128·r·N for V plus 128·r·p for B (RFC 7914 §5), with OpenSSL's small extra. */
export function scryptMemory({ ln, r, p }: ScryptParams): number {
  return 128 * r * (2 ** ln + p + 2);
}

/** A problem with the parameters, or undefined when they are within the bounds this plugin accepts. */
export function paramsProblem(params: ScryptParams): string | undefined {
  const { ln, r, p } = params;
  if (!Number.isInteger(ln) || ln < 10 || ln > 22) return `ln must be an integer from 10 to 22, got ${ln}`;
  if (!Number.isInteger(r) || r < 1 || r > 32) return `r must be an integer from 1 to 32, got ${r}`;
  if (!Number.isInteger(p) || p < 1 || p > 16) return `p must be an integer from 1 to 16, got ${p}`;
  if (scryptMemory(params) > MAX_SCRYPT_MEMORY) return `ln=${ln},r=${r} needs more than ${MAX_SCRYPT_MEMORY / 2 ** 20} MiB`;
  return undefined;
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
const B64 = /^[A-Za-z0-9+/]+$/;

/**
 * SASLprep (RFC 4013 §2.2) normalises with NFKC; doing the same when hashing and when verifying
 * makes a password typed on different keyboards or input methods hash alike.
 */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFKC'), 'utf8');
}

function derive(password: string, salt: Buffer, params: ScryptParams, keylen: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: 2 ** params.ln, r: params.r, p: params.p, maxmem: scryptMemory(params) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    // The async form runs on the libuv thread pool, so a hash never blocks the event loop.
    scrypt(passwordBytes(password), salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export function formatHash(h: ParsedHash): string {
  return `$scrypt$ln=${h.ln},r=${h.r},p=${h.p}$${b64(h.salt)}$${b64(h.hash)}`;
}

/** Parse a stored hash; undefined when it is not a well-formed scrypt string within bounds. */
export function parseHash(encoded: string): ParsedHash | undefined {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([^$]+)\$([^$]+)$/.exec(encoded);
  if (!m) return undefined;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (paramsProblem(params)) return undefined;
  if (!B64.test(m[4]) || !B64.test(m[5])) return undefined;
  const salt = Buffer.from(m[4], 'base64');
  const hash = Buffer.from(m[5], 'base64');
  if (salt.length < 8 || salt.length > 64 || hash.length < 16 || hash.length > 64) return undefined;
  return { ...params, salt, hash };
}

/** Hash a password with a fresh random salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const problem = paramsProblem(params);
  if (problem) throw new RangeError(`bad scrypt parameters: ${problem}`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new RangeError(`password longer than ${MAX_PASSWORD_LENGTH} characters`);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, KEY_BYTES);
  return formatHash({ ...params, salt, hash });
}

/**
 * Whether the password matches the stored hash. The comparison is constant-time
 * (timingSafeEqual); a malformed stored hash or an over-long password is simply false.
 */
export async function verifyPassword(password: string, stored: string | ParsedHash): Promise<boolean> {
  const h = typeof stored === 'string' ? parseHash(stored) : stored;
  if (!h || password.length > MAX_PASSWORD_LENGTH) return false;
  const key = await derive(password, h.salt, h, h.hash.length);
  return timingSafeEqual(key, h.hash);
}

/**
 * A hash no password matches (random salt and random "hash"), with the given parameters:
 * verifying against it costs what verifying a real user costs, so an unknown user answers in
 * about the same time as a known one and user existence does not leak through timing.
 */
export function dummyHash(params: ScryptParams = DEFAULT_SCRYPT): ParsedHash {
  return { ...params, salt: randomBytes(SALT_BYTES), hash: randomBytes(KEY_BYTES) };
}
