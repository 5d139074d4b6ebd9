import { z } from 'zod';

export const MaildirConfig = z.strictObject({
  root: z.string().min(1).default('mail')
    .describe('Where the Maildirs live: <root>/<domain>/<localpart>/ (Maildir++). A relative path is taken from the data directory.'),
  autocreateFolders: z.boolean().default(true)
    .describe('Create a delivery target folder that does not exist (Junk for quarantined mail after the user deleted it, a folder a rule named). Off: such mail goes to INBOX.'),
});

export type MaildirConfig = z.output<typeof MaildirConfig>;
