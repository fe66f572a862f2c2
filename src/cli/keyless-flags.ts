/** The --keyless flags, apart from the keyless client so that commands can list them without loading it. */
import { DEFAULT_STATE_DIR } from '../services/defaults.js';
import type { Flags } from './command.js';

export const keylessFlags: Flags = {
  keyless: { type: 'boolean', description: 'sign with a short-lived certificate for your OIDC identity instead of a key' },
  'identity-token': { type: 'string', description: 'OIDC ID token for --keyless (else SIGIL_IDENTITY_TOKEN, GitHub Actions, or a browser login)', value: 'TOKEN' },
  'signing-config': { type: 'string', description: `Sigstore signing_config.json naming CA, log and TSA (default ${DEFAULT_STATE_DIR}/signing_config.json when present)`, value: 'FILE' },
  'fulcio-url': { type: 'string', description: 'CA (Fulcio v2 API) for --keyless, overriding the signing config', value: 'URL' },
  'timestamp-server-url': { type: 'string', description: 'RFC 3161 timestamp authority, overriding the signing config', value: 'URL' },
  'oidc-issuer': { type: 'string', description: 'OIDC issuer for the browser login, overriding the signing config', value: 'URL' },
  'oidc-client-id': { type: 'string', description: 'OAuth client ID for the browser login', value: 'ID', default: 'sigstore' },
};
