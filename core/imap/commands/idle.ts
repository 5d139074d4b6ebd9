/**
 * IDLE (RFC 2177): a `+` continuation, then untagged updates as they happen until the client sends
 * DONE. The autologout timer keeps running (the client re-issues IDLE at least every 29 minutes).
 */
import { AUTHED, bad, ok, type CommandSpec } from './types.ts';

export const IDLE_COMMANDS: Record<string, CommandSpec> = {
  IDLE: {
    states: AUTHED,
    run: async (s, _t, c) => {
      c.end();
      await s.flushUpdates(true);
      await s.send('+ idling\r\n');
      await s.flushOutput();
      for (;;) {
        const what = await s.waitInputOrChange();
        if (what === 'closed') return undefined;
        if (what === 'change') {
          await s.flushUpdates(true);
          await s.flushOutput();
          if (s.state === 'logout') return undefined;
          continue;
        }
        const line = await s.nextLine();
        if (line === undefined) return undefined;
        if (line.trim().toUpperCase() === 'DONE') return ok('IDLE terminated');
        return bad('Expected DONE');
      }
    },
  },
};
