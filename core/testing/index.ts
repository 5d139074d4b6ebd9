/** Test helpers for plugin authors: `import { createPluginHarness } from 'pochta/testing'`. */
export { createPluginHarness } from './plugin-harness.ts';
export type { HarnessOptions } from './plugin-harness.ts';
export { startTestServer } from './server-harness.ts';
export { Dialogue } from './dialogue.ts';
export { startDnsServer, ptrName, type DnsZone, type DnsRecords, type TestDnsServer } from './dns-server.ts';
