/**
 * The whole cloud in one process, as `stratus up` starts it: every service answers through the
 * catalog, a restart on the same state directory keeps every record, a stop releases the lock,
 * and a snapshot brings a stopped cloud back to a saved state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCloud, type Cloud } from '../../../src/cmd/cloud.js';
import { Snapshots } from '../../../src/cmd/state-dir.js';

async function token(cloud: Cloud, user = cloud.admin): Promise<{ token: string; catalog: any[] }> {
  const r = await fetch(`${cloud.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user.username, domain: { id: 'default' }, password: user.password } } }, scope: { project: { name: user.projectName, domain: { id: 'default' } } } } }),
  });
  assert.equal(r.status, 201);
  const body = (await r.json()) as any;
  return { token: r.headers.get('x-subject-token')!, catalog: body.token.catalog };
}

const publicUrl = (catalog: any[], type: string) => catalog.find((s) => s.type === type).endpoints.find((e: any) => e.interface === 'public').url as string;

test('stratus up: a whole cloud that survives a restart and a snapshot', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-up-'));
  let cloud = await startCloud({ stateDir: dir, randomPorts: true, computes: 2 });
  try {
    assert.ok(existsSync(path.join(dir, 'openrc')));
    assert.match(readFileSync(path.join(dir, 'clouds.yaml'), 'utf8'), /stratus:/);
    const { token: t, catalog } = await token(cloud);
    for (const type of ['identity', 'compute', 'placement', 'image', 'network', 'volumev3', 'block-storage']) {
      assert.ok(catalog.some((s) => s.type === type), `catalog has ${type}`);
    }
    const h = { 'x-auth-token': t };
    const images = (await (await fetch(`${publicUrl(catalog, 'image')}/v2/images`, { headers: h })).json()) as any;
    assert.ok(images.images.length >= 2, 'the default and alt images are registered');
    const nets = (await (await fetch(`${publicUrl(catalog, 'network')}/v2.0/networks`, { headers: h })).json()) as any;
    assert.deepEqual(nets.networks.map((n: any) => n.name).sort(), ['private', 'public']);
    // cinder-api -> cinder-scheduler -> cinder-volume over the bus makes a real file-backed volume.
    const volumes = publicUrl(catalog, 'volumev3');
    const created = await fetch(`${volumes}/volumes`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ volume: { size: 1, name: 'v1' } }) });
    assert.equal(created.status, 202);
    const volId = ((await created.json()) as any).volume.id;
    let status = 'creating';
    for (let i = 0; i < 100 && status === 'creating'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = ((await (await fetch(`${volumes}/volumes/${volId}`, { headers: h })).json()) as any).volume.status;
    }
    assert.equal(status, 'available');
    // A record made in the first run...
    const r = await fetch(`${cloud.authUrl}/projects`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ project: { name: 'kept-across-restart' } }) });
    assert.equal(r.status, 201);
    await assert.rejects(startCloud({ stateDir: dir, randomPorts: true }), /already running/);
  } finally {
    await cloud.stop();
  }
  new Snapshots(cloud.state).save('before-extra');
  cloud = await startCloud({ stateDir: dir, randomPorts: true });
  try {
    // ...is there in the second, and the defaults were not duplicated.
    const { token: t, catalog } = await token(cloud);
    const h = { 'x-auth-token': t };
    const projects = (await (await fetch(`${cloud.authUrl}/projects?name=kept-across-restart`, { headers: h })).json()) as any;
    assert.equal(projects.projects.length, 1);
    const images = (await (await fetch(`${publicUrl(catalog, 'image')}/v2/images`, { headers: h })).json()) as any;
    assert.equal(images.images.filter((i: any) => i.name === 'cirros-0.6.2-x86_64-disk').length, 1);
    const r = await fetch(`${cloud.authUrl}/projects`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ project: { name: 'after-snapshot' } }) });
    assert.equal(r.status, 201);
  } finally {
    await cloud.stop();
  }
  new Snapshots(cloud.state).restore('before-extra');
  cloud = await startCloud({ stateDir: dir, randomPorts: true });
  try {
    const { token: t } = await token(cloud);
    const names = ((await (await fetch(`${cloud.authUrl}/projects`, { headers: { 'x-auth-token': t } })).json()) as any).projects.map((p: any) => p.name);
    assert.ok(names.includes('kept-across-restart'));
    assert.ok(!names.includes('after-snapshot'), 'restore brought back the saved state');
  } finally {
    await cloud.stop();
  }
});
