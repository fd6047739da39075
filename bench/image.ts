/**
 * `npm run bench -- image [--size-mb N]`: uploads and downloads one N MiB image (default 1024)
 * through a listening Glance app over HTTP, and prints MB/s both ways and how much the
 * process RSS grew at its peak (flat memory means the data streamed).
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TokenValidator } from '../src/common/http/auth-types.js';

const validator: TokenValidator = {
  async validate() {
    return {
      userId: 'bench', userName: 'bench', userDomainId: 'default', projectId: 'bench-project', projectDomainId: 'default',
      roles: ['admin', 'member', 'reader'], methods: ['password'], auditIds: ['b'], expiresAt: '2099-01-01T00:00:00Z', issuedAt: '2024-01-01T00:00:00Z',
    };
  },
};

function call(url: string, method: string, body?: Readable | string, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'x-auth-token': 'bench', ...headers } }, resolve);
    req.on('error', reject);
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

/** N MiB of non-zero bytes in 1 MiB chunks, generated lazily. */
function source(mib: number): Readable {
  const chunk = Buffer.alloc(1024 * 1024, 0x5a);
  let sent = 0;
  return new Readable({
    read() {
      this.push(sent++ < mib ? chunk : null);
    },
  });
}

export async function run(args: string[]): Promise<void> {
  // Per-request access logs would drown the figures; modules read the level when loaded.
  process.env['STRATUS_LOG_LEVEL'] ??= 'warn';
  const { openDatabase } = await import('../src/common/db/index.js');
  const { listen } = await import('../src/common/http/app.js');
  const { createImageApp } = await import('../src/image/service.js');
  const i = args.indexOf('--size-mb');
  const mib = i >= 0 ? Number(args[i + 1]) : 1024;
  const stateDir = await mkdtemp(path.join(tmpdir(), 'bench-image-'));
  const database = await openDatabase(`sqlite:///${path.join(stateDir, 'glance.db')}`, { service: 'glance' });
  const app = await createImageApp({ database, stateDir, validator });
  const base = await listen(app);
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const created = await call(`${base}/v2/images`, 'POST', JSON.stringify({ name: 'bench', disk_format: 'raw', container_format: 'bare' }), {
      'content-type': 'application/json',
    });
    let text = '';
    for await (const c of created) text += c;
    const id = (JSON.parse(text) as { id: string }).id;

    let t0 = performance.now();
    const up = await call(`${base}/v2/images/${id}/file`, 'PUT', source(mib), { 'content-type': 'application/octet-stream' });
    up.resume();
    if (up.statusCode !== 204) throw new Error(`upload answered ${up.statusCode}`);
    const upSec = (performance.now() - t0) / 1000;

    t0 = performance.now();
    const down = await call(`${base}/v2/images/${id}/file`, 'GET');
    let bytes = 0;
    await pipeline(down, async function* (src: AsyncIterable<Buffer>) {
      for await (const c of src) bytes += c.length;
      yield* [];
    });
    const downSec = (performance.now() - t0) / 1000;
    if (bytes !== mib * 1024 * 1024) throw new Error(`downloaded ${bytes} bytes, expected ${mib * 1024 * 1024}`);

    console.log(`image size:        ${mib} MiB`);
    console.log(`upload:            ${(mib / upSec).toFixed(1)} MB/s (${upSec.toFixed(2)} s, md5 + sha512 on the fly)`);
    console.log(`download:          ${(mib / downSec).toFixed(1)} MB/s (${downSec.toFixed(2)} s)`);
    console.log(`peak RSS growth:   ${((peak - rss0) / 1024 / 1024).toFixed(1)} MiB`);
  } finally {
    clearInterval(sampler);
    await app.close();
    await database.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}
