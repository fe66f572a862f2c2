/**
 * The one error type of sigil. Every failure carries a stable `code` that callers and
 * tests match on, a message naming what was wrong, and a hint saying what to do.
 * `kind` maps to the CLI exit code: 'verification' → 1, 'input' → 2.
 */
export type ErrorKind = 'verification' | 'input' | 'internal';

export type ErrorCode =
  // input and parsing
  | 'USAGE'
  | 'INPUT_UNREADABLE'
  | 'JSON_MALFORMED'
  | 'ENCODING_INVALID'
  | 'BUNDLE_MALFORMED'
  | 'BUNDLE_UNSUPPORTED'
  | 'DSSE_MALFORMED'
  | 'STATEMENT_MALFORMED'
  | 'TRUSTED_ROOT_MALFORMED'
  | 'SIGNING_CONFIG_MALFORMED'
  | 'KEY_MALFORMED'
  | 'KEY_UNSUPPORTED'
  | 'KEY_PASSWORD_INVALID'
  | 'CERTIFICATE_MALFORMED'
  | 'CHECKPOINT_MALFORMED'
  | 'TIMESTAMP_MALFORMED'
  | 'PROOF_MALFORMED'
  | 'POLICY_MALFORMED'
  | 'LOG_ENTRY_MALFORMED'
  | 'LOG_ENTRY_UNSUPPORTED'
  | 'REFERENCE_MALFORMED'
  | 'MANIFEST_MALFORMED'
  | 'MEDIA_TYPE_UNSUPPORTED'
  | 'ARCHIVE_MALFORMED'
  // verification steps
  | 'SIGNATURE_INVALID'
  | 'CERTIFICATE_INVALID'
  | 'CERTIFICATE_CHAIN_INVALID'
  | 'CERTIFICATE_EXPIRED'
  | 'SCT_INVALID'
  | 'TIMESTAMP_INVALID'
  | 'TLOG_ENTRY_MISSING'
  | 'TLOG_BODY_MISMATCH'
  | 'TLOG_INCLUSION_INVALID'
  | 'TLOG_CHECKPOINT_INVALID'
  | 'TLOG_SET_INVALID'
  | 'TLOG_UNKNOWN'
  | 'KEY_MISMATCH'
  | 'DIGEST_MISMATCH'
  | 'SUBJECT_MISMATCH'
  | 'IDENTITY_MISMATCH'
  | 'POLICY_VIOLATION'
  | 'CONSISTENCY_INVALID'
  | 'SIGNATURE_MISSING'
  // services and I/O
  | 'NETWORK'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHORIZED'
  | 'STORAGE'
  | 'INTERNAL';

const VERIFICATION_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SIGNATURE_INVALID',
  'CERTIFICATE_INVALID',
  'CERTIFICATE_CHAIN_INVALID',
  'CERTIFICATE_EXPIRED',
  'SCT_INVALID',
  'TIMESTAMP_INVALID',
  'TLOG_ENTRY_MISSING',
  'TLOG_BODY_MISMATCH',
  'TLOG_INCLUSION_INVALID',
  'TLOG_CHECKPOINT_INVALID',
  'TLOG_SET_INVALID',
  'TLOG_UNKNOWN',
  'KEY_MISMATCH',
  'DIGEST_MISMATCH',
  'SUBJECT_MISMATCH',
  'IDENTITY_MISMATCH',
  'POLICY_VIOLATION',
  'CONSISTENCY_INVALID',
  'SIGNATURE_MISSING',
]);

export interface SigilErrorOptions {
  hint?: string;
  cause?: unknown;
  kind?: ErrorKind;
}

export class SigilError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly kind: ErrorKind;

  constructor(code: ErrorCode, message: string, options: SigilErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SigilError';
    this.code = code;
    this.hint = options.hint;
    this.kind =
      options.kind ?? (VERIFICATION_CODES.has(code) ? 'verification' : code === 'INTERNAL' ? 'internal' : 'input');
  }

  /** One line for a terminal: `CODE: message (hint)`. */
  toLine(): string {
    return `${this.code}: ${this.message}${this.hint ? ` (${this.hint})` : ''}`;
  }
}

export function isSigilError(e: unknown): e is SigilError {
  return e instanceof SigilError;
}

/** Wraps anything thrown into a SigilError with the given code, keeping SigilErrors as they are. */
export function asSigilError(e: unknown, code: ErrorCode, context: string): SigilError {
  if (e instanceof SigilError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new SigilError(code, `${context}: ${msg}`, { cause: e });
}
