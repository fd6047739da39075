/**
 * `npm run bench -- identity [--seconds N] [--concurrency N]`: Keystone token rates.
 * - issue over HTTP (password method, and token method which skips bcrypt);
 * - validate over HTTP (GET /v3/auth/tokens with X-Subject-Token), Keystone in a child process;
 * - validate inside another service: HttpTokenValidator (keystonemiddleware-style, cached) and
 *   the in-process LocalTokenValidator of the all-in-one mode.
 * Targets (issue 3): >= 5,000 validations/s over HTTP, >= 50,000/s in the middleware.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpTokenValidator } from '../src/identity/middleware.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

async function startChild(): Promise<{ child: ChildProcess; authUrl: string; adminPassword: string; demoPassword: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/e2e/identity/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, STRATUS_TEST: '1', IDENTITY_ONLY: '1', STRATUS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /export OS_AUTH_URL=.*\n/.exec(buf);
      if (m) resolve(m[0]);
    });
    child.on('exit', (code) => reject(new Error(`keystone exited with ${code}`)));
  });
  const env = Object.fromEntries(line.replace(/^export /, '').trim().split(' ').map((kv) => kv.split('=') as [string, string]));
  return { child, authUrl: env['OS_AUTH_URL']!, adminPassword: env['OS_PASSWORD']!, demoPassword: 'demo-e2e-pw' };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** Runs `op` from `concurrency` loops for `seconds`; returns operations per second. */
async function rate(seconds: number, concurrency: number, op: (i: number) => Promise<void>): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        await op(n);
        n++;
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

function syncRate(seconds: number, op: (i: number) => Promise<unknown>): Promise<number> {
  return rate(seconds, 1, async (i) => {
    // batches keep the microtask overhead of the loop itself small
    for (let k = 0; k < 100; k++) await op(i + k);
  }).then((r) => r * 100);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function run(args: string[]): Promise<void> {
  const seconds = arg(args, 'seconds', 3);
  const concurrency = arg(args, 'concurrency', 16);
  const ks = await startChild();
  try {
    const passwordBody = (user: string, pw: string, project: string) =>
      JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password: pw } } }, scope: { project: { name: project, domain: { id: 'default' } } } } });
    const issue = async (body: string) => {
      const r = await request(`${ks.authUrl}/auth/tokens?nocatalog`, 'POST', { 'content-type': 'application/json' }, body);
      if (r.status !== 201) throw new Error(`issue failed: ${r.status} ${r.body}`);
      return r.headers['x-subject-token'] as string;
    };
    const admin = await issue(passwordBody('admin', ks.adminPassword, 'admin'));
    const demoBody = passwordBody('demo', ks.demoPassword, 'demo');

    const issuePw = await rate(seconds, 4, async () => void (await issue(demoBody)));
    const unscoped = await issue(JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { id: 'default' }, password: ks.demoPassword } } }, scope: 'unscoped' } }));
    const rescopeBody = JSON.stringify({ auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: { project: { name: 'demo', domain: { id: 'default' } } } } });
    const issueTok = await rate(seconds, concurrency, async () => void (await issue(rescopeBody)));

    const tokens: string[] = [];
    for (let i = 0; i < 50; i++) tokens.push(await issue(rescopeBody));
    const validateHttp = await rate(seconds, concurrency, async (i) => {
      const r = await request(`${ks.authUrl}/auth/tokens?nocatalog`, 'GET', { 'x-auth-token': admin, 'x-subject-token': tokens[i % tokens.length]! });
      if (r.status !== 200) throw new Error(`validate failed: ${r.status}`);
    });

    const mw = new HttpTokenValidator({ authUrl: ks.authUrl, username: 'nova', password: 'nova-pw', projectName: 'service' });
    for (const t of tokens) await mw.validate(t);
    const mwCached = await syncRate(seconds, (i) => mw.validate(tokens[i % tokens.length]!));
    const mwCold = new HttpTokenValidator({ authUrl: ks.authUrl, username: 'nova', password: 'nova-pw', projectName: 'service', cacheTtlMs: 0 });
    const mwUncached = await rate(seconds, concurrency, async (i) => void (await mwCold.validate(tokens[i % tokens.length]!)));

    // the all-in-one shape: Keystone's provider and keys in the same process
    const { startKeystone } = await import('../test/e2e/identity/server.js');
    const local = await startKeystone({ identityOnly: true });
    let localRate = 0;
    let localFirst = 0;
    try {
      const localTokens: string[] = [];
      for (let i = 0; i < 50; i++) {
        const r = await request(`${local.authUrl}/auth/tokens?nocatalog`, 'POST', { 'content-type': 'application/json' }, rescopeBody.replace(unscoped, await issueLocalUnscoped(local.authUrl, local.demoPassword)));
        localTokens.push(r.headers['x-subject-token'] as string);
      }
      localRate = await syncRate(seconds, (i) => local.svc.validator.validate(localTokens[i % localTokens.length]!));
      // first validation of a token (decrypt + database reads), with the cache dropped each time
      localFirst = await rate(seconds, 1, async (i) => {
        local.svc.tokens.invalidate();
        await local.svc.validator.validate(localTokens[i % localTokens.length]!);
      });
    } finally {
      await local.stop();
    }

    console.log(`bcrypt cost 4 here (STRATUS_TEST); Keystone's default 12 costs ~300 ms per password check`);
    console.log(`token issue, password method, HTTP (4 clients):          ${fmt(issuePw)}/s`);
    console.log(`token issue, token method (re-scope), HTTP (${concurrency} clients): ${fmt(issueTok)}/s`);
    console.log(`token validate, GET /v3/auth/tokens, HTTP (${concurrency} clients):  ${fmt(validateHttp)}/s   (target >= 5,000)`);
    console.log(`middleware HttpTokenValidator, cached:                   ${fmt(mwCached)}/s   (target >= 50,000)`);
    console.log(`middleware HttpTokenValidator, uncached (HTTP each):     ${fmt(mwUncached)}/s`);
    console.log(`in-process LocalTokenValidator, cached:                  ${fmt(localRate)}/s`);
    console.log(`in-process LocalTokenValidator, cold (decrypt + DB):     ${fmt(localFirst)}/s`);
  } finally {
    ks.child.kill('SIGTERM');
    agent.destroy();
  }
}

async function issueLocalUnscoped(authUrl: string, pw: string): Promise<string> {
  const r = await request(`${authUrl}/auth/tokens`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { id: 'default' }, password: pw } } }, scope: 'unscoped' } }));
  return r.headers['x-subject-token'] as string;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
