import type { Reply } from '../../core/verdict.ts';
import type { HeloRdnsConfig } from './config.ts';

export type CheckKey = 'noPtr' | 'ptrMismatch' | 'syntax' | 'bareIp' | 'literalMismatch' | 'impersonation';

/** The evidence `check` name of each config key (what shows in X-Policy-Check and logs). */
export const CHECK_NAME: Record<CheckKey, string> = {
  noPtr: 'fcrdns',
  ptrMismatch: 'fcrdns',
  syntax: 'helo-syntax',
  bareIp: 'helo-bare-ip',
  literalMismatch: 'helo-literal',
  impersonation: 'helo-ours',
};

/**
 * Replies to HELO/EHLO when a check's action is reject or tempfail (RFC 5321 §4.2.2, §4.3.2:
 * 550 and 501 are EHLO replies). X.7.25 is "reverse DNS validation failed" (RFC 7372 §3.3).
 */
export function replies(key: CheckKey, ip: string): { reject: Reply; tempfail: Reply } {
  const client = `[${ip.replace(/^::ffff:(?=\d+\.)/i, '')}]`;
  switch (key) {
    case 'noPtr':
    case 'ptrMismatch':
      return {
        reject: { code: 550, enhanced: '5.7.25', text: `Reverse DNS validation failed for ${client}` },
        tempfail: { code: 450, enhanced: '4.7.25', text: `Reverse DNS validation failed for ${client}; try again later` },
      };
    case 'syntax':
    case 'bareIp':
      return {
        reject: { code: 501, enhanced: '5.5.2', text: key === 'bareIp' ? 'Invalid HELO: an address must be written as a literal, e.g. [192.0.2.1]' : 'Invalid HELO: give your fully qualified host name or an address literal' },
        tempfail: { code: 450, enhanced: '4.7.1', text: 'Invalid HELO; try again later' },
      };
    case 'literalMismatch':
      return {
        reject: { code: 550, enhanced: '5.7.1', text: `HELO address literal is not your address ${client}` },
        tempfail: { code: 450, enhanced: '4.7.1', text: `HELO address literal is not your address ${client}; try again later` },
      };
    case 'impersonation':
      return {
        reject: { code: 550, enhanced: '5.7.1', text: 'HELO with this server\'s own name or domain refused' },
        tempfail: { code: 450, enhanced: '4.7.1', text: 'HELO with this server\'s own name or domain; try again later' },
      };
  }
}

export type CheckConfig = HeloRdnsConfig[CheckKey];
