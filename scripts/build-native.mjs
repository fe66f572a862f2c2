#!/usr/bin/env node
// Builds the optional native addons (native/prehash: ECDSA verification over a digest against
// node's own OpenSSL). Never fails the install: without a compiler or node headers sigil uses
// its portable BigInt fallback, and this script says so.
// Uses npm's bundled node-gyp (no download) and node's installed headers (<prefix>/include/node),
// so it works offline.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addons = ['native/prehash'];

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

const gyp = findNodeGyp();
const prefix = dirname(dirname(process.execPath));
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
let failed = 0;
for (const dir of addons) {
  if (!gyp) {
    console.warn(`sigil: node-gyp not found; ${dir} not built (the portable fallback will be used)`);
    failed++;
    continue;
  }
  const args = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const res = spawnSync(process.execPath, args, { cwd: join(root, dir), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (res.status === 0) {
    console.log(`sigil: built ${dir}`);
  } else {
    failed++;
    console.warn(`sigil: could not build ${dir} (the portable fallback will be used):\n${(res.stderr || res.stdout || '').split('\n').slice(-15).join('\n')}`);
  }
}
process.exit(process.argv.includes('--strict') && failed ? 1 : 0);
