import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message as the SMTP server accepted it: its envelope's recipients, the raw text, and mailparser's reading. */
export interface Mail {
  to: string[];
  raw: string;
  mail: ParsedMail;
}

/** An SMTP reply refusing a recipient: 4xx (try again later) or 5xx (never). */
export interface Refusal {
  responseCode: number;
  text: string;
}

/**
 * A real SMTP server on 127.0.0.1 (smtp-server) that keeps every message it accepts, parsed with mailparser, before
 * it answers 250: a notification the engine settled as delivered is already here. An address in `busy` is answered
 * 451 at RCPT TO, as a mail server that cannot take it now does; `refuse` may answer others as it likes.
 */
export class MailCatcher {
  readonly messages: Mail[] = [];
  readonly busy = new Set<string>();

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(options: { refuse?: (address: string) => Refusal | undefined } = {}): Promise<MailCatcher> {
    let catcher: MailCatcher | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(address, _session, callback) {
        const refusal = catcher?.busy.has(address.address) ? { responseCode: 451, text: 'Mailbox busy, try again later' } : options.refuse?.(address.address);
        if (refusal) return callback(Object.assign(new Error(refusal.text), { responseCode: refusal.responseCode }));
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw).then((mail) => {
            catcher?.messages.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: raw.toString('utf8'), mail });
            callback();
          }, callback);
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    catcher = new MailCatcher(server, (server.server.address() as AddressInfo).port);
    return catcher;
  }

  /** The SMTP_URL that reaches it. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** The messages sent to `address`. */
  to(address: string): Mail[] {
    return this.messages.filter((m) => m.to.includes(address));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
