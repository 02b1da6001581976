import type Database from 'better-sqlite3';
import type { Vault } from '../vault/vault';

/** The vault entry holding the SMTP password (set by `alerts.setChannels`). */
export const SMTP_SECRET = 'alerts-smtp-password';

/** The SMTP settings of the monitoring issue's e-mail channel (`alert_channels`, id 'email'), without the password. */
export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  from: string;
  /** The alert recipients (reports name their own). */
  to: string[];
}

export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
  attachments?: { filename: string; path: string }[];
}

/** The configured SMTP settings, or null when e-mail is not set up. */
export function smtpSettings(db: Database.Database): SmtpSettings | null {
  const r = db.prepare(`SELECT config FROM alert_channels WHERE id = 'email'`).pluck().get() as string | undefined;
  return r ? (JSON.parse(r) as SmtpSettings) : null;
}

/** Sends one message through an SMTP server; throws on failure (with nodemailer's reason). */
export async function sendSmtp(c: SmtpSettings, password: string | undefined, msg: MailMessage): Promise<void> {
  const { createTransport } = await import('nodemailer');
  const transport = createTransport({
    host: c.host,
    port: c.port,
    secure: c.secure,
    auth: c.user ? { user: c.user, pass: password ?? '' } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  try {
    await transport.sendMail({ from: c.from, to: msg.to.join(', '), subject: msg.subject, text: msg.text, attachments: msg.attachments });
  } finally {
    transport.close();
  }
}

/** Sends with the configured settings and the password from the vault; throws when e-mail is not set up. */
export async function sendConfiguredMail(db: Database.Database, vault: Vault, msg: MailMessage): Promise<void> {
  const c = smtpSettings(db);
  if (!c) throw new Error('e-mail is not set up (alerts.setChannels)');
  const password = (await vault.get(SMTP_SECRET))?.toString('utf8');
  await sendSmtp(c, password, msg);
}
