/**
 * Server create and rebuild from 2.52 to 2.63: tags at boot (2.52), key_name in rebuild (2.54),
 * personality gone and user_data in rebuild (2.57), trusted_image_certificates (2.63), rescue of
 * volume-backed servers (2.87). Every
 * answer is checked against Tempest's response schema of its microversion.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, withCloud, type Client } from '../helpers.js';
import { assertTempest } from './tempest-schemas.js';

raiseMicroversionCeilingForTests('2.92');
const at = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

async function boot(c: Client, v: string, server: Record<string, unknown>): Promise<{ status: number; body: any }> {
  return c.call('POST', 'compute', '/servers', { server: { flavorRef: '1', ...server } }, at(v));
}

test('create and rebuild, 2.52 to 2.63', async () => {
  await withCloud(1, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const { imageRef, networkId } = await bootArgs(demo);
    const networks = [{ uuid: networkId }];

    // ---- 2.52: tags at create (2.26's tag schema, at most 50) ----
    let r = await boot(demo, '2.51', { name: 't0', imageRef, networks, tags: ['a'] });
    assert.equal(r.status, 400, 'tags at create need 2.52');
    assert.match(r.body.badRequest.message, /Additional properties are not allowed \('tags' was unexpected\)/);
    r = await boot(demo, '2.52', { name: 't0', imageRef, networks, tags: Array.from({ length: 51 }, (_, i) => `t${i}`) });
    assert.equal(r.status, 400, '51 tags');
    r = await boot(demo, '2.52', { name: 't0', imageRef, networks, tags: ['a/b'] });
    assert.equal(r.status, 400, 'a tag with a slash');
    r = await boot(demo, '2.52', { name: 'tagged', imageRef, networks, tags: ['blue', 'green', 'blue'] });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assertTempest('create_server_with_admin_pass', '2.52', r);
    const id = r.body.server.id;
    let s = await waitForStatus(demo, id, 'ACTIVE');
    r = await demo.call('GET', 'compute', `/servers/${id}`, undefined, at('2.52'));
    assertTempest('get_server', '2.52', r);
    assert.deepEqual(r.body.server.tags, ['blue', 'green']);
    assert.deepEqual((await demo.call('GET', 'compute', `/servers/${id}/tags`, undefined, at('2.52'))).body.tags, ['blue', 'green']);
    r = await demo.call('GET', 'compute', '/servers/detail?tags=green', undefined, at('2.52'));
    assert.deepEqual(r.body.servers.map((x: any) => x.id), [id]);

    // ---- 2.54: key_name in rebuild (a new key, then null removes it) ----
    for (const name of ['k1', 'k2']) assert.equal((await demo.call('POST', 'compute', '/os-keypairs', { keypair: { name } }, at('2.2'))).status, 201);
    const k2 = (await demo.call('GET', 'compute', '/os-keypairs/k2')).body.keypair.public_key;
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rebuild: { imageRef, key_name: 'k2' } }, at('2.53'));
    assert.equal(r.status, 400, 'key_name in rebuild needs 2.54');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rebuild: { imageRef, key_name: 'nope' } }, at('2.54'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Invalid key_name provided.');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rebuild: { imageRef, key_name: 'k2' } }, at('2.54'));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assertTempest('rebuild_server_with_admin_pass', '2.54', r);
    assert.equal(r.body.server.key_name, 'k2');
    s = await waitForStatus(demo, id, 'ACTIVE');
    assert.equal(s.key_name, 'k2');
    const adminC = await login(cloud, 'admin');
    const meta = await adminC.call('GET', 'compute', `/servers/${id}`, undefined, at('2.54'));
    assert.equal(meta.body.server.key_name, 'k2');
    assert.ok(k2.startsWith('ssh-'));
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rebuild: { imageRef, key_name: null } }, at('2.54'));
    assert.equal(r.status, 202);
    assert.equal(r.body.server.key_name, null);
    s = await waitForStatus(demo, id, 'ACTIVE');
    assert.equal(s.key_name, null);

    // ---- 2.57: no personality in create/rebuild; user_data in rebuild (null clears) ----
    const personality = [{ path: '/etc/motd', contents: Buffer.from('hi').toString('base64') }];
    r = await boot(demo, '2.57', { name: 'p', imageRef, networks, personality });
    assert.equal(r.status, 400, 'personality is gone from create at 2.57');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rebuild: { imageRef, personality } }, at('2.57'));
    assert.equal(r.status, 400, 'personality is gone from rebuild at 2.57');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rebuild: { imageRef, user_data: 'aGk=' } }, at('2.56'));
    assert.equal(r.status, 400, 'user_data in rebuild needs 2.57');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rebuild: { imageRef, user_data: 'not base64!' } }, at('2.57'));
    assert.equal(r.status, 400);
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rebuild: { imageRef, user_data: 'aGVsbG8=' } }, at('2.57'));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assertTempest('rebuild_server_with_admin_pass', '2.57', r);
    assert.equal(r.body.server.user_data, 'aGVsbG8=');
    await waitForStatus(demo, id, 'ACTIVE');
    assert.equal((await adminC.call('GET', 'compute', `/servers/${id}`, undefined, at('2.57'))).body.server['OS-EXT-SRV-ATTR:user_data'], 'aGVsbG8=');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rebuild: { imageRef, user_data: null } }, at('2.57'));
    assert.equal(r.status, 202);
    assert.equal(r.body.server.user_data, null);
    await waitForStatus(demo, id, 'ACTIVE');
    assert.equal((await adminC.call('GET', 'compute', `/servers/${id}`, undefined, at('2.57'))).body.server['OS-EXT-SRV-ATTR:user_data'], null);

    // ---- 2.63: trusted_image_certificates in create, rebuild, show, detail, update ----
    r = await boot(demo, '2.62', { name: 'c', imageRef, networks, trusted_image_certificates: ['cert-a'] });
    assert.equal(r.status, 400, 'trusted certs need 2.63');
    r = await boot(demo, '2.63', { name: 'c', imageRef, networks, trusted_image_certificates: Array.from({ length: 51 }, (_, i) => `c${i}`) });
    assert.equal(r.status, 400, 'at most 50');
    r = await boot(demo, '2.63', { name: 'c', imageRef, networks, trusted_image_certificates: ['x', 'x'] });
    assert.equal(r.status, 400, 'unique ids');
    r = await boot(demo, '2.63', { name: 'c', imageRef, networks, trusted_image_certificates: [] });
    assert.equal(r.status, 400, 'at least one id');
    r = await boot(demo, '2.63', {
      name: 'c', networks, trusted_image_certificates: ['cert-a'],
      block_device_mapping_v2: [{ source_type: 'image', uuid: imageRef, destination_type: 'volume', volume_size: 1, boot_index: 0 }],
    });
    assert.equal(r.status, 400, 'not for volume-backed servers');
    assert.match(r.body.badRequest.message, /Image certificate validation is not supported when booting from volume/);
    r = await boot(demo, '2.63', { name: 'certs', imageRef, networks, trusted_image_certificates: ['cert-a', 'cert-b'] });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const cid = r.body.server.id;
    await waitForStatus(demo, cid, 'ACTIVE');
    r = await demo.call('GET', 'compute', `/servers/${cid}`, undefined, at('2.63'));
    assertTempest('get_server', '2.63', r);
    assert.deepEqual(r.body.server.trusted_image_certificates, ['cert-a', 'cert-b']);
    const cellDb = new Sqlite(cloud.state.file('nova_cell1.db'), { readonly: true });
    const extra = cellDb.prepare('SELECT trusted_certs FROM instance_extra WHERE instance_uuid = ?').get(cid) as { trusted_certs: string };
    cellDb.close();
    assert.deepEqual(JSON.parse(extra.trusted_certs).ids, ['cert-a', 'cert-b'], 'kept in instance_extra.trusted_certs as nova does');
    r = await demo.call('GET', 'compute', `/servers/${id}`, undefined, at('2.63'));
    assert.equal(r.body.server.trusted_image_certificates, null, 'null when unset');
    assert.ok(!('trusted_image_certificates' in (await demo.call('GET', 'compute', `/servers/${cid}`, undefined, at('2.62'))).body.server));
    r = await demo.call('GET', 'compute', '/servers/detail', undefined, at('2.63'));
    assertTempest('list_servers_detail', '2.63', r);
    assert.deepEqual(r.body.servers.find((x: any) => x.id === cid).trusted_image_certificates, ['cert-a', 'cert-b']);
    r = await demo.call('PUT', 'compute', `/servers/${cid}`, { server: { name: 'certs2' } }, at('2.63'));
    assert.equal(r.status, 200);
    assertTempest('update_server', '2.63', r);
    assert.deepEqual(r.body.server.trusted_image_certificates, ['cert-a', 'cert-b']);
    r = await demo.call('POST', 'compute', `/servers/${cid}/action`, { rebuild: { imageRef, trusted_image_certificates: ['cert-c'] } }, at('2.63'));
    assert.equal(r.status, 202);
    assertTempest('rebuild_server_with_admin_pass', '2.63', r);
    assert.deepEqual(r.body.server.trusted_image_certificates, ['cert-c']);
    await waitForStatus(demo, cid, 'ACTIVE');
    r = await demo.call('POST', 'compute', `/servers/${cid}/action`, { rebuild: { imageRef, trusted_image_certificates: null } }, at('2.63'));
    assert.equal(r.status, 202);
    assert.equal(r.body.server.trusted_image_certificates, null, 'null unsets');
    await waitForStatus(demo, cid, 'ACTIVE');
    assert.equal((await demo.call('GET', 'compute', `/servers/${cid}`, undefined, at('2.63'))).body.server.trusted_image_certificates, null);

    // ---- 2.87: rescue of a volume-backed server where the host has COMPUTE_RESCUE_BFV ----
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rescue: { bogus: 1 } }, at('2.87'));
    assert.equal(r.status, 400, 'rescue body schema');
    r = await boot(demo, '2.87', {
      name: 'bfv', networks,
      block_device_mapping_v2: [{ source_type: 'image', uuid: imageRef, destination_type: 'volume', volume_size: 1, boot_index: 0, delete_on_termination: true }],
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const bfv = r.body.server.id;
    await waitForStatus(demo, bfv, 'ACTIVE');
    r = await demo.call('POST', 'compute', `/servers/${bfv}/action`, { rebuild: { imageRef, trusted_image_certificates: ['cert-a'] } }, at('2.63'));
    assert.equal(r.status, 400, 'no trusted certs when rebuilding a volume-backed server');
    assert.match(r.body.badRequest.message, /Image certificate validation is not supported for volume-backed servers\./);
    r = await demo.call('POST', 'compute', `/servers/${bfv}/action`, { rescue: null }, at('2.86'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, `Instance ${bfv} cannot be rescued: Cannot rescue a volume-backed instance`);
    const host = (await adminC.call('GET', 'compute', `/servers/${bfv}`)).body.server['OS-EXT-SRV-ATTR:hypervisor_hostname'];
    const rp = (await adminC.call('GET', 'placement', `/resource_providers?name=${host}`)).body.resource_providers[0];
    const traits = await adminC.call('GET', 'placement', `/resource_providers/${rp.uuid}/traits`, undefined, { 'OpenStack-API-Version': 'placement 1.6' });
    assert.ok(traits.body.traits.includes('COMPUTE_RESCUE_BFV'), 'the fake driver reports COMPUTE_RESCUE_BFV');
    r = await demo.call('POST', 'compute', `/servers/${bfv}/action`, { rescue: { adminPass: 'rescue-me' } }, at('2.87'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.adminPass, 'rescue-me');
    await waitForStatus(demo, bfv, 'RESCUE');
    assert.equal((await demo.call('POST', 'compute', `/servers/${bfv}/action`, { unrescue: null }, at('2.87'))).status, 202);
    await waitForStatus(demo, bfv, 'ACTIVE');
    // Without the trait the host cannot do it.
    const put = await adminC.call('PUT', 'placement', `/resource_providers/${rp.uuid}/traits`,
      { resource_provider_generation: traits.body.resource_provider_generation, traits: traits.body.traits.filter((t: string) => t !== 'COMPUTE_RESCUE_BFV') },
      { 'OpenStack-API-Version': 'placement 1.6' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    r = await demo.call('POST', 'compute', `/servers/${bfv}/action`, { rescue: null }, at('2.87'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, `Instance ${bfv} cannot be rescued: Host unable to rescue a volume-backed instance`);

    for (const x of [id, cid, bfv]) assert.equal((await demo.call('DELETE', 'compute', `/servers/${x}`)).status, 204);
  });
});
