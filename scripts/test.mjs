#!/usr/bin/env node
// Node 20's test runner takes no globs, so this walks the tree and hands it explicit file lists.
// Tiers: unit (src/**/*.test.ts), conformance, functional, integration, e2e (test/<tier>/**).
// `node scripts/test.mjs` runs unit + conformance + functional + integration; name tiers to narrow.
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const walk = (dir) => {
  let out = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const e of entries) {
    if (e === 'node_modules' || e.startsWith('.')) continue;
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
};
const tiers = {
  unit: () => walk(path.join(root, 'src')),
  conformance: () => walk(path.join(root, 'test', 'conformance')),
  functional: () => walk(path.join(root, 'test', 'functional')),
  integration: () => walk(path.join(root, 'test', 'integration')),
  e2e: () => walk(path.join(root, 'test', 'e2e')),
};
const args = process.argv.slice(2);
const chosen = args.filter((a) => a in tiers);
const extra = args.filter((a) => !(a in tiers));
const names = chosen.length ? chosen : ['unit', 'conformance', 'functional', 'integration', 'e2e'];
const files = extra.length ? extra : names.flatMap((t) => tiers[t]());
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, STRATUS_TEST: '1' },
});
process.exit(r.status ?? 1);
