/** Test helpers for plugin authors: `import { createPluginHarness } from 'pochta/testing'`. */
export { createPluginHarness } from './plugin-harness.ts';
export type { HarnessOptions } from './plugin-harness.ts';
export { startTestServer } from './server-harness.ts';
export { Dialogue } from './dialogue.ts';
export { startDnsServer, ptrName, type DnsZone, type DnsRecords, type TestDnsServer } from './dns-server.ts';
export { startRedis, freePort, type TestRedis } from './redis-server.ts';
export { startClamd, eicar, TEST_SIGNATURES, type TestClamd } from './clamd.ts';
export { startRspamd, gtube, RSPAMD_TEST, type TestRspamd } from './rspamd.ts';
export { startSpamd, type TestSpamd } from './spamd.ts';
