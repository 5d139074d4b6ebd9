import { z } from 'zod';

/** Delivery status notifications (RFC 3464): what the server sends when mail fails, is delayed, or (on request) succeeds. */
export const DsnSchema = z.strictObject({
  postmaster: z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, 'an address').optional()
    .describe('Where a notice that could not be delivered itself goes (a double bounce, RFC 3464 §2: never back to the null sender). Absent: such failures are logged and dropped.'),
  maxFullBytes: z.number().int().min(0).default(10 * 1024 * 1024)
    .describe('A failure notice attaches the whole original (RET=FULL, the default) only up to this size in bytes; a larger original, or RET=HDRS, gets its header section only (RFC 3461 §4.3).'),
});

export type DsnConfig = z.output<typeof DsnSchema>;
