/** The shared Authentication-Results support of the spf, dkim-verify, arc and dmarc plugins. */
export { formatAuthResults, formatResInfo, METHOD_ORDER, type AuthMethod, type ResInfo } from './format.ts';
export { AUTH_RESULTS, authResults, recordAuthResult } from './record.ts';
export { AR_HEADER, AUTH_RESULTS_HEADER, ensureAuthResults, registerAuthResults } from './header.ts';
export { isTrustedSession } from './trusted.ts';
export { mailauthResolver, type MailauthResolver } from './resolver.ts';
