/** Secrets shorter than this are not looked for: they would blank out ordinary words and hide nothing worth hiding. */
export const MIN_SECRET_LENGTH = 3;

/** What a secret is shown as. */
export const REDACTED = '[secret]';

/**
 * Keeps values read from secret files (`${file:PATH}`) out of text shown to a user: problem messages, errors
 * and log lines. A secret is looked for as written and as it appears inside a JSON string (a log line).
 */
export class SecretRedactor {
  private readonly forms: string[] = [];

  add(secret: string): void {
    if (secret.length < MIN_SECRET_LENGTH) return;
    for (const form of [secret, JSON.stringify(secret).slice(1, -1)]) {
      if (!this.forms.includes(form)) this.forms.push(form);
    }
    // Longest first, so a secret holding another is replaced whole.
    this.forms.sort((a, b) => b.length - a.length);
  }

  get secrets(): readonly string[] {
    return this.forms;
  }

  redact(text: string): string {
    let out = text;
    for (const form of this.forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    return out;
  }
}
