import type { Command } from 'commander';
import { mkdir, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import { hostname } from 'node:os';

/** The config `pochta init` writes: the embedded default, spelled out and commented. */
export function initConfigText(host: string): string {
  return `# Pochta configuration. Every key is optional; see docs/config.md for all of them.
# Validate with: npx pochta config check    Show the resolved config: npx pochta config print

# This server's name: greeting, Received headers, Maildir file names.
hostname: ${host}
# Spool, mailboxes, users file, generated TLS certificate. Relative to this file.
dataDir: ./data

smtp:
  listeners:
    # Inbound mail from other servers (port 25 in production; needs root or CAP_NET_BIND_SERVICE).
    mx: { kind: mx, host: 127.0.0.1, port: 2525 }
    # Mail from your users: STARTTLS, then AUTH (port 587 in production).
    submission: { kind: submission, host: 127.0.0.1, port: 2587 }
    # Same, with implicit TLS (port 465 in production).
    submissions: { kind: submissions, host: 127.0.0.1, port: 2465 }
  maxMessageSize: 26214400      # bytes; larger gets 552 5.3.4
  bareLineEndings: reject       # or normalize (SMTP smuggling protection)

pop3:
  listeners:
    # Mail clients reading mail: STLS before login (port 110 in production).
    pop3: { tls: starttls, host: 127.0.0.1, port: 2110 }
    # The same with implicit TLS (port 995 in production).
    pop3s: { tls: implicit, host: 127.0.0.1, port: 2995 }

imap:
  listeners:
    # Mail clients (IMAP4rev1): STARTTLS before login (port 143 in production).
    imap: { tls: starttls, host: 127.0.0.1, port: 2143 }
    # The same with implicit TLS (port 993 in production).
    imaps: { tls: implicit, host: 127.0.0.1, port: 2993 }

tls: {}
  # cert: /etc/letsencrypt/live/mail.example.com/fullchain.pem
  # key: /etc/letsencrypt/live/mail.example.com/privkey.pem
  # Without cert and key a self-signed certificate is generated into dataDir/tls.

# Plugins run in this order. "enabled: false" switches one off.
plugins:
  # Who may relay: authenticated users, plus these networks.
  relay-acl:
    networks: []
  # Users and passwords (scrypt), in dataDir/users.yaml. Add users with: npx pochta user add alice@example.com
  auth-file: {}
  # postmaster@ and abuse@ always resolve; add your own aliases here.
  aliases: {}
  # Which domains are local. Empty: every domain that has a user.
  local-domains:
    domains: []
  # Delivery into Maildir++ under dataDir/mail/<domain>/<user>.
  maildir: {}
  # Sending to other servers (docs/outbound.md). Uncomment what you use; each plugin's README
  # (plugins/NAME/README.md) lists its settings.
  # submission-limits: {}     # hourly limits per user and IP; senders must belong to the user
  # dkim-sign:                # keys: npx pochta dkim keygen example.com
  #   domains: ...
  # outbound: {}              # MX delivery with STARTTLS and MTA-STS, or a smarthost
  # Inbound protection (docs/protection.md): start every check with "action: tag".
  # rate-limit: {}
  # dnsbl: { zones: [...] }
  # helo-rdns: {}
  # spf: {}
  # dkim-verify: {}
  # dmarc: {}
  # greylist: {}
  # clamav: {}                # needs a running clamd
  # spam-score: {}            # decides last: keep it after the checks
`;
}

export function initCommand(program: Command): void {
  program.command('init')
    .description('Write a commented pochta.config.yaml and create the data directory')
    .argument('[dir]', 'where to write it', '.')
    .option('--hostname <name>', 'this server\'s name', hostname())
    .option('--force', 'overwrite an existing config file')
    .action(async (dir: string, o: { hostname: string; force?: boolean }) => {
      const root = path.resolve(dir);
      const file = path.join(root, 'pochta.config.yaml');
      const exists = await access(file).then(() => true, () => false);
      if (exists && !o.force) {
        console.error(`${file} exists; use --force to overwrite`);
        process.exitCode = 1;
        return;
      }
      await mkdir(path.join(root, 'data'), { recursive: true, mode: 0o700 });
      await writeFile(file, initConfigText(o.hostname));
      console.log(`wrote ${file}\ncreated ${path.join(root, 'data')}\nnext: npx pochta user add you@${o.hostname === hostname() ? 'example.com' : o.hostname} && npx pochta start`);
    });
}
