// Child process of head-worker.test.ts: a cold whole-folder FETCH ENVELOPE through a cache with a
// summary directory and the worker thread, then "fetched N" on stdout; the test kills it right then.
// Arguments: Maildir root, user, summary directory.
import { MaildirStore } from '../../../plugins/maildir/maildir-store.ts';
import { envelopeBytes, StructureCache } from './index.ts';

const [root, user, dir] = process.argv.slice(2);
if (!root || !user || !dir) throw new Error('usage: head-worker-crash.fixture.ts <root> <user> <dir>');
const store = new MaildirStore({ root, hostname: 'mx.example.test' });
const view = await store.open(user, 'INBOX', { readOnly: true });
const cache = new StructureCache({ dir });
await cache.startHeadWorker();
let n = 0;
for (const u of view.uids()) {
  envelopeBytes(cache.peekHead(view, u) ?? (await cache.head(view, u)));
  n++;
}
process.stdout.write(`fetched ${n}\n`);
// Stay alive (bounded) until killed; the summary write comes once the folder has been quiet a while.
setTimeout(() => process.exit(0), 30_000);
