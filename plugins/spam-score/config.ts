import { z } from 'zod';
import { RuleSchema, type RuleDef } from './rules.ts';

/** A few conservative rules that hold for most sites; replace them with `rules: []`. */
export const DEFAULT_RULES: RuleDef[] = [
  { name: 'MISSING_MESSAGE_ID', score: 1, header: 'Message-ID', absent: true, flags: 'i', description: 'RFC 5322 §3.6.4: every message should have one.' },
  { name: 'MISSING_DATE', score: 1, header: 'Date', absent: true, flags: 'i' },
  { name: 'SUBJECT_ALL_CAPS', score: 1.5, header: 'Subject', matches: '^[^a-z]*[A-Z]{4}[^a-z]{8,}$', flags: '' },
  { name: 'MONEY_PROMISE', score: 2, body: true, matches: '\\b(you (have )?won|lottery|wire transfer|claim your (prize|reward)|100% free)\\b', flags: 'i' },
  { name: 'URGENT_ACCOUNT', score: 1.5, body: true, matches: '\\b(verify your account|account (will be )?(suspended|closed)|confirm your password)\\b', flags: 'i' },
];

export const SpamScoreConfig = z.strictObject({
  thresholds: z.strictObject({
    tag: z.number().default(5).describe('From this score the message is marked spam (X-Spam-Status: Yes).'),
    quarantine: z.number().default(8).describe('From this score the message is delivered to the Junk folder.'),
    reject: z.number().default(15).describe('From this score the message is refused with 550 5.7.1.'),
  }).prefault({}).describe('Score thresholds (SpamAssassin-like scale).'),
  evidenceScores: z.record(z.string(), z.number()).default({})
    .describe('Override the score of other checks\' evidence, keyed "plugin/check/result" or "plugin/check" (e.g. "spf/mailfrom/fail": 3).'),
  rules: z.array(RuleSchema).default(DEFAULT_RULES).describe('Scored rules on headers and body (see README).'),
  ruleFiles: z.array(z.string()).default([]).describe('YAML files with more rules (a list of rules each), relative to the data directory.'),
  bayes: z.strictObject({
    enabled: z.boolean().default(true),
    minLearned: z.number().int().min(1).default(20).describe('Learned messages of each class needed before the classifier scores.'),
    spamScore: z.number().default(3.5).describe('Added when the classifier says spam (probability ≥ 0.9; half of it from 0.75).'),
    hamScore: z.number().default(-2).describe('Added when the classifier says ham (probability ≤ 0.1; half of it up to 0.25).'),
    maxTokens: z.number().int().min(10).max(10_000).default(1500).describe('Tokens read per message.'),
  }).prefault({}).describe('The Bayesian classifier; its tokens live in the kv service (Redis when configured).'),
  maxScanBytes: z.number().int().min(4096).default(512 * 1024).describe('Bytes of each message read for rules and tokens.'),
  learnDir: z.string().default('spam-score/learn').describe('Where `pochta spam learn` drops messages for the server to learn (relative to the data directory).'),
  learnPollMs: z.number().int().min(100).default(2000).describe('How often the server looks into learnDir.'),
  learnFromJunk: z.boolean().default(true).describe('Learn spam when a user moves or copies a message into Junk over IMAP, ham when out of it (mail we had called spam).'),
  junkFolder: z.string().default('Junk').describe('The folder quarantined mail goes to and users file spam into.'),
  ignoreFolders: z.array(z.string()).default(['Trash']).describe('Filing into these folders teaches nothing (deleting spam is not "this is ham").'),
  outbound: z.strictObject({
    enabled: z.boolean().default(true).describe('Score mail from authenticated users too.'),
    holdAfter: z.number().int().min(1).default(5).describe('An account whose mail scored at least thresholds.tag this many times in windowMs is held.'),
    windowMs: z.number().int().min(1000).default(3_600_000),
    holdMs: z.number().int().min(1000).default(24 * 3_600_000).describe('How long a held account gets 451 4.7.1 on submission.'),
  }).prefault({}).describe('A hijacked account that suddenly sends spam is held back.'),
});
export type SpamScoreConfig = z.infer<typeof SpamScoreConfig>;
