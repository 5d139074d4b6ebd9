import type { Command } from 'commander';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { systemClock } from '../clock.ts';
import { loadConfig } from '../config/load.ts';
import { OfflineQueueAdmin, type QueueAdmin } from '../queue/admin.ts';
import { CONTROL_SOCKET, socketAnswers } from '../queue/control.ts';
import { RemoteQueueAdmin } from '../queue/control-client.ts';
import { Spool } from '../queue/spool.ts';
import type { GlobalOpts } from './load-for-cli.ts';
import { formatRow, formatStats, formatSummary } from './queue-format.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The running server's control sockets when one answers; otherwise the spool files directly —
 * but never while the pid file (the one `pochta reload` uses) names a live process.
 */
export async function openQueueAdmin(dataDir: string): Promise<{ admin: QueueAdmin; running: boolean }> {
  const names = await readdir(dataDir).catch(() => [] as string[]);
  const live: string[] = [];
  for (const n of names.filter((x) => CONTROL_SOCKET.test(x)).sort()) {
    const p = path.join(dataDir, n);
    if (await socketAnswers(p)) live.push(p);
  }
  if (live.length) return { admin: new RemoteQueueAdmin(live), running: true };
  const pidFile = path.join(dataDir, 'pochta.pid');
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (pid && alive(pid)) throw new Error(`a server runs (pid ${pid}, ${pidFile}) but answers on no control socket in ${dataDir}`);
  const spool = new Spool(dataDir);
  await spool.open();
  return { admin: new OfflineQueueAdmin(spool, () => systemClock.now()), running: false };
}

/** `pochta queue …`: inspect and act on the outbound queue of a running or stopped server. */
export function queueCommand(program: Command, globals: () => GlobalOpts): void {
  const queue = program.command('queue').description('Inspect and act on the mail queue (running server: over its control socket; stopped: the spool files)');
  const withAdmin = (fn: (a: QueueAdmin, running: boolean) => Promise<void>) => async () => {
    const o = globals();
    const loaded = await loadConfig(o.config ? { file: o.config } : {});
    const { admin, running } = await openQueueAdmin(loaded.dataDir);
    await fn(admin, running);
  };
  const notFound = (id: string) => {
    console.error(`no queued message ${id}`);
    process.exitCode = 1;
  };

  queue.command('list').description('Every queued message with its recipients and their states').action(withAdmin(async (a) => {
    let messages = 0;
    let recipients = 0;
    for await (const row of a.list()) {
      messages++;
      recipients += row.recipients.length;
      console.log(formatRow(row).join('\n'));
    }
    console.log(formatSummary(messages, recipients));
  }));

  queue.command('show').argument('<id>', 'queue id').description('One message: recipients, states, body file').action((id: string) => withAdmin(async (a) => {
    const r = await a.show(id);
    if (!r) return notFound(id);
    console.log([...formatRow(r.row), `body ${r.bodyPath}`].join('\n'));
  })());

  queue.command('retry').argument('[id]', 'queue id').option('--all', 'every queued message')
    .description('Try the pending recipients now, whatever their next attempt time')
    .action((id: string | undefined, opts: { all?: boolean }) => withAdmin(async (a, running) => {
      const when = running ? 'now' : 'at the next start';
      if (opts.all) {
        const n = await a.retryAll();
        console.log(`retry: ${n} message${n === 1 ? '' : 's'} scheduled ${when}`);
        return;
      }
      if (!id) {
        console.error('give a queue id or --all');
        process.exitCode = 1;
        return;
      }
      if (!(await a.retry(id))) return notFound(id);
      console.log(`retry: ${id} scheduled ${when}`);
    })());

  queue.command('delete').argument('<id>', 'queue id').description('Remove a message from the queue, without any notice').action((id: string) => withAdmin(async (a) => {
    if (!(await a.delete(id))) return notFound(id);
    console.log(`deleted ${id}`);
  })());

  queue.command('bounce').argument('<id>', 'queue id').description('Fail every pending recipient now; failure notices go to the sender as usual').action((id: string) => withAdmin(async (a, running) => {
    if (!(await a.bounce(id))) return notFound(id);
    console.log(running ? `bounced ${id}` : `bounced ${id} (notices are sent when the server starts)`);
  })());

  queue.command('stats').description('Messages and recipients by state').action(withAdmin(async (a) => {
    console.log(formatStats(await a.stats()).join('\n'));
    if (await a.held()) console.log('remote delivery is held (pochta queue release)');
  }));

  queue.command('hold').description('Hold remote delivery: messages are accepted and queued, none is relayed until release (kept across restarts)')
    .action(withAdmin(async (a, running) => {
      await a.hold();
      console.log(running ? 'remote delivery held' : 'remote delivery held (from the next start)');
    }));

  queue.command('release').description('Lift the hold: every message waiting for it is delivered now')
    .action(withAdmin(async (a, running) => {
      const n = await a.release();
      console.log(running ? `released: ${n} message${n === 1 ? '' : 's'} due now` : 'released (queued messages are due at the next start)');
    }));
}
