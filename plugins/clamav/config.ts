import { z } from 'zod';
import { actionSchema } from '../../core/policy/action.ts';

export const ClamavConfig = z.strictObject({
  socket: z.string().min(1).optional().describe('clamd\'s unix socket (LocalSocket in clamd.conf); wins over host and port.'),
  host: z.string().min(1).default('127.0.0.1').describe('clamd\'s TCP address (TCPAddr).'),
  port: z.number().int().min(1).max(65535).default(3310).describe('clamd\'s TCP port (TCPSocket).'),
  action: actionSchema('reject'),
  onUnavailable: z.enum(['tempfail', 'accept']).default('tempfail')
    .describe('When clamd is down, slow or cannot scan: tempfail (451 4.3.0, the sender retries) or accept with the header "X-Virus-Scan: not scanned (scanner unavailable)".'),
  maxScanBytes: z.number().int().min(1024).default(25 * 1024 * 1024)
    .describe('Messages larger than this are not scanned (keep it at or below clamd\'s StreamMaxLength). Default 25 MiB.'),
  onOversize: z.enum(['accept', 'tempfail']).default('accept')
    .describe('A message over maxScanBytes (or over clamd\'s own limit): accept with "X-Virus-Scan: not scanned (too large)", or tempfail 451 4.3.0.'),
  scanTimeoutMs: z.number().int().min(100).default(20_000)
    .describe('The whole scan of one message; slower counts as unavailable. Keep it below the plugin entry\'s timeoutMs (its whole time budget, default 30 s).'),
  connectTimeoutMs: z.number().int().min(50).default(2000).describe('Connecting to clamd.'),
  headerOnClean: z.boolean().default(true).describe('Add "X-Virus-Scan: clean" to scanned messages.'),
});

export type ClamavConfig = z.output<typeof ClamavConfig>;
