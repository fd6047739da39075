/**
 * /os-simple-tenant-usage paging (2.40): limit and marker by server (ordered by project and
 * uuid across the cells), `tenant_usages_links` / `tenant_usage_links` when the page is full,
 * a bad marker is a 400, unknown query parameters are a 400 from 2.75; Tempest's schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';

raiseMicroversionCeilingForTests('2.92');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

test('simple tenant usage pages by server from 2.40', async () => {
  await withCloud(1, async (cloud) => {
    const admin = await login(cloud, 'admin');
    const demo = await login(cloud, 'demo');
    const { imageRef, networkId } = await bootArgs(admin);
    const ids: string[] = [];
    for (const [c, n] of [[demo, 'u1'], [demo, 'u2'], [admin, 'u3']] as const) {
      const r = await c.call('POST', 'compute', '/servers', { server: { name: n, imageRef, flavorRef: '42', networks: [{ uuid: networkId }] } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      ids.push(r.body.server.id);
    }
    for (const id of ids) await waitForStatus(admin, id, 'ACTIVE');
    const demoProject = (await demo.call('GET', 'identity', '/auth/projects')).body.projects[0].id;
    const start = new Date(Date.now() - 3_600_000).toISOString().slice(0, 19);
    const end = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19);
    const win = `start=${start}&end=${end}`;

    // Below 2.40: everything at once, no links, limit ignored.
    let r = await admin.call('GET', 'compute', `/os-simple-tenant-usage?${win}&detailed=1&limit=1`, undefined, mv('2.39'));
    assertTempest('tenant_usages', 'list_tenant_usage', '2.39', r);
    assert.equal(r.body.tenant_usages.flatMap((u: any) => u.server_usages).length, 3);
    assert.equal(r.body.tenant_usages_links, undefined);

    // 2.40: pages of two servers, then the rest by the next link.
    r = await admin.call('GET', 'compute', `/os-simple-tenant-usage?${win}&detailed=1&limit=2`, undefined, mv('2.40'));
    assertTempest('tenant_usages', 'list_tenant_usage', '2.40', r);
    const page1 = r.body.tenant_usages.flatMap((u: any) => u.server_usages.map((s: any) => s.instance_id));
    assert.equal(page1.length, 2);
    const link = r.body.tenant_usages_links;
    assert.equal(link.length, 1);
    assert.equal(link[0].rel, 'next');
    const next = new URL(link[0].href);
    assert.equal(next.searchParams.get('marker'), page1[1]);
    assert.equal(next.searchParams.get('limit'), '2');
    assert.ok(next.pathname.endsWith('/os-simple-tenant-usage'));
    r = await admin.call('GET', 'compute', `/os-simple-tenant-usage${next.search}`, undefined, mv('2.40'));
    assertTempest('tenant_usages', 'list_tenant_usage', '2.40', r);
    const page2 = r.body.tenant_usages.flatMap((u: any) => u.server_usages.map((s: any) => s.instance_id));
    assert.equal(page2.length, 1);
    assert.equal(r.body.tenant_usages_links, undefined, 'no link after a partial page');
    assert.deepEqual([...page1, ...page2].sort(), [...ids].sort());
    // Ordered by project then uuid, as upstream's paginate_query.
    const rows = (await admin.call('GET', 'compute', `/os-simple-tenant-usage?${win}&detailed=1`, undefined, mv('2.40'))).body.tenant_usages
      .flatMap((u: any) => u.server_usages.map((s: any) => `${s.tenant_id}/${s.instance_id}`));
    assert.deepEqual(rows, [...rows].sort());

    // One project: paged the same way, links carry the project id.
    r = await demo.call('GET', 'compute', `/os-simple-tenant-usage/${demoProject}?${win}&limit=1`, undefined, mv('2.40'));
    assertTempest('tenant_usages', 'get_tenant_usage', '2.40', r);
    assert.equal(r.body.tenant_usage.server_usages.length, 1);
    assert.match(r.body.tenant_usage_links[0].href, new RegExp(`/os-simple-tenant-usage/${demoProject}\\?`));
    const m2 = new URL(r.body.tenant_usage_links[0].href).search;
    r = await demo.call('GET', 'compute', `/os-simple-tenant-usage/${demoProject}${m2}`, undefined, mv('2.40'));
    assert.equal(r.body.tenant_usage.server_usages.length, 1);
    assert.ok(r.body.tenant_usage_links, 'a full page of one has a link');
    r = await demo.call('GET', 'compute', `/os-simple-tenant-usage/${demoProject}${new URL(r.body.tenant_usage_links[0].href).search}`, undefined, mv('2.40'));
    // Nova's own schema allows the empty object; Tempest's does not (it never pages past the end).
    assert.deepEqual(r.body.tenant_usage, {}, 'past the last server: an empty usage');

    // Errors.
    assert.equal((await admin.call('GET', 'compute', `/os-simple-tenant-usage?${win}&marker=nope`, undefined, mv('2.40'))).status, 400);
    assert.equal((await admin.call('GET', 'compute', `/os-simple-tenant-usage?${win}&limit=-1`, undefined, mv('2.40'))).status, 400);
    assert.equal((await admin.call('GET', 'compute', `/os-simple-tenant-usage?${win}&foo=1`, undefined, mv('2.74'))).status, 200);
    assert.equal((await admin.call('GET', 'compute', `/os-simple-tenant-usage?${win}&foo=1`, undefined, mv('2.75'))).status, 400);
    assert.equal((await admin.call('GET', 'compute', `/os-simple-tenant-usage?start=${end}&end=${start}`)).status, 400);
    assert.equal((await admin.call('GET', 'compute', `/os-simple-tenant-usage?start=yesterday`)).status, 400);
  });
});
