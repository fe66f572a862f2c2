/**
 * The list of sigil's commands. Each command lives in its own file under src/cli/commands/ and is
 * imported only when it runs: importing all of them (services, SBOM catalogers, OCI client) cost
 * ~0.3 s on every invocation (`node dist/src/cli/sigil.js --version`: 0.35 s before, see git log).
 */
import type { CommandEntry } from './command.js';

export const commands: CommandEntry[] = [
  // local stack and services
  { path: ['up'], load: async () => (await import('./commands/up.js')).upCommand },
  { path: ['demo'], load: async () => (await import('./commands/demo.js')).demoCommand },
  // keys, blobs and attestations
  { path: ['generate-key-pair'], load: async () => (await import('./commands/generate-key-pair.js')).generateKeyPairCommand },
  { path: ['sign-blob'], load: async () => (await import('./commands/sign-blob.js')).signBlobCommand },
  { path: ['verify-blob'], load: async () => (await import('./commands/verify-blob.js')).verifyBlobCommand },
  { path: ['attest-blob'], load: async () => (await import('./commands/attest-blob.js')).attestBlobCommand },
  { path: ['verify-blob-attestation'], load: async () => (await import('./commands/verify-blob-attestation.js')).verifyBlobAttestationCommand },
  // container images
  { path: ['sign'], load: async () => (await import('./commands/sign.js')).signCommand },
  { path: ['verify'], load: async () => (await import('./commands/verify.js')).verifyCommand },
  { path: ['attest'], load: async () => (await import('./commands/attest.js')).attestCommand },
  { path: ['verify-attestation'], load: async () => (await import('./commands/verify.js')).verifyAttestationCommand },
  { path: ['attach', 'sbom'], load: async () => (await import('./commands/attach-sbom.js')).attachSbomCommand },
  { path: ['tree'], load: async () => (await import('./commands/tree.js')).treeCommand },
  { path: ['copy'], load: async () => (await import('./commands/copy.js')).copyCommand },
  { path: ['triangulate'], load: async () => (await import('./commands/triangulate.js')).triangulateCommand },
  // SBOMs
  { path: ['sbom'], load: async () => (await import('./commands/sbom.js')).sbomCommand },
  // transparency log
  { path: ['log', 'serve'], load: async () => (await import('./commands/log-serve.js')).logServeCommand },
  { path: ['log', 'get'], load: async () => (await import('./commands/log-get.js')).logGetCommand },
  { path: ['log', 'proof'], load: async () => (await import('./commands/log-proof.js')).logProofCommand },
  { path: ['log', 'monitor'], load: async () => (await import('./commands/log-monitor.js')).logMonitorCommand },
  { path: ['log', 'keygen'], load: async () => (await import('./commands/log-keygen.js')).logKeygenCommand },
  // certificate authority, timestamp authority, development OIDC issuer
  { path: ['ca', 'serve'], load: async () => (await import('./commands/ca-serve.js')).caServeCommand },
  { path: ['tsa', 'serve'], load: async () => (await import('./commands/tsa-serve.js')).tsaServeCommand },
  { path: ['oidc', 'serve'], load: async () => (await import('./commands/oidc-serve.js')).oidcServeCommand },
  { path: ['oidc', 'token'], load: async () => (await import('./commands/oidc-token.js')).oidcTokenCommand },
];
