/** The list of sigil's commands. Each command lives in its own file under src/cli/commands/. */
import type { Command } from './command.js';
import { demoCommand } from './commands/demo.js';
import { sbomCommand } from './commands/sbom.js';
import { verifyBlobCommand } from './commands/verify-blob.js';
import { verifyBlobAttestationCommand } from './commands/verify-blob-attestation.js';
import { generateKeyPairCommand } from './commands/generate-key-pair.js';
import { signBlobCommand } from './commands/sign-blob.js';
import { attestBlobCommand } from './commands/attest-blob.js';
import { logServeCommand } from './commands/log-serve.js';
import { logGetCommand } from './commands/log-get.js';
import { logProofCommand } from './commands/log-proof.js';
import { logMonitorCommand } from './commands/log-monitor.js';
import { logKeygenCommand } from './commands/log-keygen.js';
import { signCommand } from './commands/sign.js';
import { attestCommand } from './commands/attest.js';
import { attachSbomCommand } from './commands/attach-sbom.js';
import { verifyCommand, verifyAttestationCommand } from './commands/verify.js';
import { treeCommand } from './commands/tree.js';
import { copyCommand } from './commands/copy.js';
import { triangulateCommand } from './commands/triangulate.js';
import { upCommand } from './commands/up.js';
import { caServeCommand } from './commands/ca-serve.js';
import { tsaServeCommand } from './commands/tsa-serve.js';
import { oidcServeCommand } from './commands/oidc-serve.js';
import { oidcTokenCommand } from './commands/oidc-token.js';

export const commands: Command[] = [demoCommand, sbomCommand, verifyBlobCommand, verifyBlobAttestationCommand, generateKeyPairCommand, signBlobCommand, attestBlobCommand, logServeCommand, logGetCommand, logProofCommand, logMonitorCommand, logKeygenCommand, signCommand, attestCommand, attachSbomCommand, verifyCommand, verifyAttestationCommand, treeCommand, copyCommand, triangulateCommand, upCommand, caServeCommand, tsaServeCommand, oidcServeCommand, oidcTokenCommand];
