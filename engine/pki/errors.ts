// The one error the PKI library throws: input that cannot make a sound certificate, key or config.

export class PkiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PkiError';
  }
}
