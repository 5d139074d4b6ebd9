import { USER_DIRECTORY } from '../../core/auth/user-directory.ts';
import { LOCAL_DOMAINS } from '../../core/domains.ts';
import { definePlugin } from '../../core/plugin.ts';
import { REPLY } from '../../core/smtp/codes.ts';
import { acceptRcpt, reject, tempfail } from '../../core/verdict.ts';
import { normalizeDomain } from '../local-domains/address.ts';
import { domainSet, findUser } from '../local-domains/resolve.ts';
import { AliasesConfig, type AliasMapInput } from './config.ts';
import { resolveRecipient, type AliasDeps } from './expand.ts';
import { loadAliasFile, watchAliasFile } from './file.ts';
import { buildTable, type AliasTable } from './table.ts';

export default definePlugin({
  name: 'aliases',
  description: 'Expand alias addresses (recursively, with loop detection), catch-alls and postmaster@/abuse@ into local users and forwards.',
  config: AliasesConfig,
  async register(hooks, ctx) {
    const cfg = ctx.config;
    const file = cfg.file ? ctx.resolvePath(cfg.file) : undefined;
    let fileMap: AliasMapInput | undefined = file ? await loadAliasFile(file) : undefined;
    let table: AliasTable;

    const rebuild = () => {
      const built = buildTable({ inline: cfg.aliases, catchAll: cfg.catchAll, ...(fileMap ? { file: fileMap } : {}) });
      for (const key of built.overridden) ctx.log.warn({ event: 'aliases.overridden', alias: key, file }, 'alias in both the file and the config: the config wins');
      table = built.table;
    };
    rebuild();

    if (file) {
      watchAliasFile(file, {
        signal: ctx.signal,
        onChange: () => {
          loadAliasFile(file).then((m) => {
            fileMap = m;
            rebuild();
            ctx.log.info({ event: 'aliases.reloaded', file, aliases: table.aliases.size }, 'alias file reloaded');
          }, (err: Error) => {
            ctx.log.error({ event: 'aliases.reload-failed', file, err: err.message }, 'alias file not reloaded; the previous map stays');
          });
        },
        onError: (err) => ctx.log.error({ event: 'aliases.watch-failed', file, err: err.message }, 'alias file no longer watched'),
      });
    }

    /** Lookups for one RCPT: the directory is optional (without one, aliases only forward). */
    const depsFor = (current: AliasTable): AliasDeps => {
      const directory = ctx.services.find(USER_DIRECTORY);
      let domains: Promise<ReadonlySet<string>> | undefined;
      return {
        table: current,
        separators: cfg.plusSeparator,
        maxDepth: cfg.maxDepth,
        maxTargets: cfg.maxTargets,
        ...(cfg.postmaster ? { postmaster: cfg.postmaster } : {}),
        // The local-domains plugin's answer when it runs (it may list domains with no users yet),
        // else the directory's domains.
        directoryDomains: () => (domains ??= (async () => {
          const local = ctx.services.find(LOCAL_DOMAINS);
          return domainSet(local ? await local.list() : directory ? await directory.domains() : []);
        })()),
        findUser: async (addr) => (directory ? (await findUser(directory, addr, cfg.plusSeparator))?.user.id : undefined),
        firstUser: async (domain) => {
          if (!directory) return undefined;
          const users = (await directory.list()).filter((u) => !u.disabled);
          const first = domain === undefined ? users[0] : users.find((u) => normalizeDomain(u.id.slice(u.id.lastIndexOf('@') + 1)) === domain);
          return first?.id;
        },
      };
    };

    let warnedPostmaster = false;
    hooks.smtp.rcptTo.tap(async (_tx, rcpt, t) => {
      const r = await resolveRecipient(rcpt.address, depsFor(table));
      if (r.kind !== 'pass' && r.kind !== 'error' && r.dropped.length) {
        t.log.warn({ event: 'aliases.dangling', rcpt: rcpt.address, dropped: r.dropped }, 'alias targets that name nobody were skipped');
      }
      switch (r.kind) {
        case 'pass':
          return undefined;
        case 'targets':
          if (r.via === 'postmaster' && !cfg.postmaster && !warnedPostmaster) {
            warnedPostmaster = true;
            ctx.log.warn({ event: 'aliases.postmaster-fallback', rcpt: rcpt.address, targets: r.targets }, 'postmaster is not configured: role mail goes to a fallback; set plugins.aliases.postmaster');
          }
          t.log.debug({ event: 'aliases.expanded', rcpt: rcpt.address, via: r.via, targets: r.targets }, 'alias expanded');
          return acceptRcpt(r.targets);
        case 'unknown':
          return reject(REPLY.noSuchUser);
        case 'error':
          // Our own config is broken: tempfail (4xx) so the sender retries after the fix.
          t.log.error({ event: `aliases.${r.failure}`, rcpt: rcpt.address, detail: r.detail }, 'alias expansion failed');
          return tempfail(REPLY.tempLocal);
      }
    });
  },
});
