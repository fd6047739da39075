/**
 * The same cloud on the distributed backends: RabbitMQ for the bus and MariaDB or PostgreSQL for
 * every service database (`stratus up --transport-url ... --database-url ...`). A server boots
 * through every hop, which exercises RPC over AMQP and every service's migrations on the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startCloud, type Cloud } from '../../../src/cmd/cloud.js';
import { dropDatabase } from '../../../src/common/db/index.js';

const reachable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });

const DBS = ['keystone', 'placement', 'glance', 'neutron', 'nova_api', 'nova_cell0', 'nova_cell1'];

async function call(cloud: Cloud, token: string, method: string, url: string, body?: unknown): Promise<any> {
  const r = await fetch(url, { method, headers: { 'x-auth-token': token, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await r.text();
  if (r.status >= 400) throw new Error(`${method} ${url} -> ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function bootOn(databaseUrl: string): Promise<void> {
  const prefix = `stratus_it_${randomBytes(4).toString('hex')}_`;
  const cloud = await startCloud({
    stateDir: mkdtempSync(path.join(tmpdir(), 'stratus-dist-')),
    randomPorts: true,
    transportUrl: 'rabbit://guest:guest@127.0.0.1:5672/',
    databaseUrl,
    databasePrefix: prefix,
  });
  try {
    const auth = await fetch(`${cloud.authUrl}/auth/tokens`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { id: 'default' }, password: cloud.demo.password } } }, scope: { project: { name: 'demo', domain: { id: 'default' } } } } }),
    });
    assert.equal(auth.status, 201);
    const token = auth.headers.get('x-subject-token')!;
    const images = await call(cloud, token, 'GET', `${cloud.urls.image}/v2/images?name=cirros-0.6.2-x86_64-disk`);
    const nets = await call(cloud, token, 'GET', `${cloud.urls.network}/v2.0/networks?name=private`);
    const created = await call(cloud, token, 'POST', `${cloud.urls.compute}/servers`, {
      server: { name: 'dist-vm', flavorRef: '1', imageRef: images.images[0].id, networks: [{ uuid: nets.networks[0].id }] },
    });
    const id = created.server.id;
    let server: any;
    for (let i = 0; i < 120; i++) {
      server = (await call(cloud, token, 'GET', `${cloud.urls.compute}/servers/${id}`)).server;
      if (server.status !== 'BUILD') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(server.status, 'ACTIVE', JSON.stringify(server.fault ?? server));
    const ports = await call(cloud, token, 'GET', `${cloud.urls.network}/v2.0/ports?device_id=${id}`);
    assert.equal(ports.ports[0].status, 'ACTIVE');
    await call(cloud, token, 'DELETE', `${cloud.urls.compute}/servers/${id}`);
  } finally {
    await cloud.stop();
    for (const db of DBS) await dropDatabase(`${databaseUrl}/${prefix}${db}`).catch(() => undefined);
  }
}

test('on RabbitMQ + MariaDB a server boots through every hop', async (t) => {
  if (!(await reachable(5672)) || !(await reachable(3306))) return t.skip('RabbitMQ or MariaDB is not running');
  await bootOn('mysql+pymysql://root@127.0.0.1');
});

test('on RabbitMQ + PostgreSQL a server boots through every hop', async (t) => {
  if (!(await reachable(5672)) || !(await reachable(5432))) return t.skip('RabbitMQ or PostgreSQL is not running');
  await bootOn('postgresql://postgres@127.0.0.1');
});
