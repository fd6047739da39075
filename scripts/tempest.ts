/**
 * `npm run test:tempest`: the Tempest interop list (../shared/tempest) against a fresh
 * `stratus up --computes 2` with Keystone's [security_compliance] on (Tempest's defaults), so
 * nothing skips but the two SSH validation tests. Prints pass / fail / skip per service and
 * exits non-zero on any failure.
 *
 *   TEMPEST_REGEX='tempest\.api\.identity' npm run test:tempest   # one service
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const shared = path.resolve(root, '..', 'shared', 'tempest');
const runner = path.join(shared, 'run-tempest.sh');
if (!existsSync(runner)) {
  console.error(`tempest runner not found at ${runner}`);
  process.exit(2);
}

const work = mkdtempSync(path.join(tmpdir(), 'stratus-tempest-'));
const stateDir = path.join(work, 'state');
const keystoneConf = path.join(work, 'keystone.conf');
writeFileSync(keystoneConf, '[security_compliance]\nlockout_failure_attempts = 2\nlockout_duration = 5\nunique_last_password_count = 2\nminimum_password_age = 0\n');
const password = 'tempest-admin';

const cloud = spawn(process.execPath, [path.join(root, 'bin', 'stratus.mjs'), 'up', '--state-dir', stateDir, '--computes', '2', '--admin-password', password, '--config-file', keystoneConf], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const t0 = Date.now();
await new Promise<void>((resolve, reject) => {
  let out = '';
  cloud.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    process.stdout.write(d);
    if (out.includes('Stratus is up')) resolve();
  });
  cloud.once('exit', (code) => reject(new Error(`stratus up exited ${code}`)));
});

const env = {
  ...process.env,
  OS_AUTH_URL: 'http://127.0.0.1:5000/v3',
  OS_USERNAME: 'admin',
  OS_PASSWORD: password,
  OS_PROJECT_NAME: 'admin',
  IDENTITY_SECURITY_COMPLIANCE: 'true',
  TEMPEST_WORKDIR: path.join(work, 'tempest'),
  // Debian's tempest sleeps 10 s before every subnet delete: four workers mostly wait, on 2 cores too.
  TEMPEST_CONCURRENCY: process.env['TEMPEST_CONCURRENCY'] ?? '4',
};
const r = spawnSync('bash', [runner], { stdio: 'inherit', env });
cloud.kill('SIGINT');
await new Promise((res) => cloud.once('exit', res));

const resultsFile = path.join(work, 'tempest', 'results.json');
let failed = r.status !== 0;
const minutes = ((Date.now() - t0) / 60000).toFixed(1);
if (existsSync(resultsFile)) {
  console.log(`\nresults: ${resultsFile}`);
  const lines = summaryLines(JSON.parse(readFileSync(resultsFile, 'utf8')) as Results, minutes);
  if (!lines) failed = true;
  for (const l of lines ?? ['tempest result: results.json has no summary']) console.log(l);
} else {
  failed = true;
  console.log(`tempest result: no results.json (runner exit ${r.status}) after ${minutes} min`);
}
process.exit(failed ? 1 : 0);

interface Results {
  summary?: { passed: number; failed: number; skipped: number; total: number; per_service?: Record<string, Record<string, number>> };
  tests?: Record<string, { result?: string; reason?: string }>;
}

/** `tempest result: ...` then one line per service and one per failed or skipped test (CI greps these). */
function summaryLines(res: Results, minutes: string): string[] | null {
  const s = res.summary;
  if (!s) return null;
  const out = [`tempest result: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped of ${s.total} in ${minutes} min`];
  for (const [svc, c] of Object.entries(s.per_service ?? {}).sort()) {
    out.push(`  ${svc.padEnd(9)} ${c['pass'] ?? 0} passed, ${c['fail'] ?? 0} failed, ${c['skip'] ?? 0} skipped`);
  }
  for (const [id, t] of Object.entries(res.tests ?? {})) {
    if (t.result === 'fail') out.push(`  FAILED  ${id}`);
    else if (t.result === 'skip') out.push(`  skipped ${id}: ${(t.reason ?? '').split('\n')[0]}`);
  }
  return out;
}
