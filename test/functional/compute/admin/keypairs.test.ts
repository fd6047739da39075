/**
 * Key pairs per microversion: generation up to 2.91 and import only from 2.92 (public_key
 * required), names with '@' and '.' from 2.92 only, type (2.2), other users for admins (2.10),
 * paging by name (2.35), strict query (2.75); Tempest's schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { login, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';

raiseMicroversionCeilingForTests('2.92');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

/** An OpenSSH ed25519 public key line. */
function sshPublicKey(): string {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string };
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(Buffer.from(jwk.x, 'base64url'))]).toString('base64')} me@host`;
}

test('keypairs: import only and wider names at 2.92', async () => {
  await withCloud(1, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const call = (c: typeof demo, method: string, p: string, v: string, body?: unknown) => c.call(method, 'compute', p, body, mv(v));

    // ---- up to 2.91: generation ----
    let r = await call(demo, 'POST', '/os-keypairs', '2.91', { keypair: { name: 'gen' } });
    assertTempest('keypairs', 'create_keypair', '2.91', r);
    assert.match(r.body.keypair.private_key, /BEGIN RSA PRIVATE KEY/);
    assert.equal(r.body.keypair.type, 'ssh');
    r = await call(demo, 'POST', '/os-keypairs', '2.1', { keypair: { name: 'gen21' } });
    assertTempest('keypairs', 'create_keypair', '2.1', r);
    assert.equal(r.status, 200);
    assert.equal(r.body.keypair.type, undefined);
    // Tempest's KeyPairsV22TestJSON: a generated x509 pair.
    r = await call(demo, 'POST', '/os-keypairs', '2.2', { keypair: { name: 'gen-x509', type: 'x509' } });
    assertTempest('keypairs', 'create_keypair', '2.2', r);
    assert.equal(r.body.keypair.type, 'x509');
    assert.equal((await call(demo, 'POST', '/os-keypairs', '2.2', { keypair: { name: 'bad-x509', type: 'x509', public_key: 'not a certificate' } })).status, 400);
    assert.equal((await call(demo, 'DELETE', '/os-keypairs/gen-x509', '2.2')).status, 204);
    assert.equal((await call(demo, 'POST', '/os-keypairs', '2.91', { keypair: { name: 'a@b.c', public_key: sshPublicKey() } })).status, 400, "'@' and '.' are 2.92");

    // ---- 2.92: import only, '@' and '.' allowed ----
    r = await call(demo, 'POST', '/os-keypairs', '2.92', { keypair: { name: 'nokey' } });
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /'public_key' is a required property/);
    const pub = sshPublicKey();
    r = await call(demo, 'POST', '/os-keypairs', '2.92', { keypair: { name: 'me@example.com', public_key: pub } });
    assertTempest('keypairs', 'create_keypair', '2.92', r);
    assert.equal(r.status, 201);
    assert.equal(r.body.keypair.private_key, undefined);
    assert.equal(r.body.keypair.public_key, pub);
    assert.match(r.body.keypair.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    assert.equal((await call(demo, 'POST', '/os-keypairs', '2.92', { keypair: { name: 'bad/name', public_key: pub } })).status, 400);
    assert.equal((await call(demo, 'POST', '/os-keypairs', '2.92', { keypair: { name: 'x', public_key: 'not a key' } })).status, 400);
    assert.equal((await call(demo, 'POST', '/os-keypairs', '2.92', { keypair: { name: 'me@example.com', public_key: pub } })).status, 409);
    r = await call(demo, 'GET', '/os-keypairs/me@example.com', '2.92');
    assertTempest('keypairs', 'get_keypair', '2.92', r);
    assert.equal(r.body.keypair.name, 'me@example.com');

    // ---- 2.10: another user's key pairs for admins; 2.35 paging ----
    const demoUser = r.body.keypair.user_id;
    assert.equal((await call(admin, 'POST', '/os-keypairs', '2.92', { keypair: { name: 'for.demo', public_key: sshPublicKey(), user_id: demoUser } })).status, 201);
    assert.equal((await call(demo, 'POST', '/os-keypairs', '2.92', { keypair: { name: 'other', public_key: sshPublicKey(), user_id: 'someone-else' } })).status, 403);
    r = await call(demo, 'GET', '/os-keypairs', '2.92');
    assertTempest('keypairs', 'list_keypairs', '2.92', r);
    assert.deepEqual(r.body.keypairs.map((k: any) => k.keypair.name), ['for.demo', 'gen', 'gen21', 'me@example.com']);
    // Tempest's keypair schemas stop at 2.2 and know no keypairs_links (Nova's 2.35 schema has them).
    r = await call(demo, 'GET', '/os-keypairs?limit=2', '2.35');
    assert.deepEqual(r.body.keypairs.map((k: any) => k.keypair.name), ['for.demo', 'gen']);
    const next = new URL(r.body.keypairs_links[0].href);
    assert.equal(next.searchParams.get('marker'), 'gen');
    r = await call(demo, 'GET', `/os-keypairs${next.search}`, '2.35');
    assert.deepEqual(r.body.keypairs.map((k: any) => k.keypair.name), ['gen21', 'me@example.com']);
    assert.equal((await call(demo, 'GET', '/os-keypairs?marker=nope', '2.35')).status, 400);
    assert.equal((await call(demo, 'GET', '/os-keypairs?limit=1', '2.34')).body.keypairs.length, 4, 'no paging before 2.35');
    r = await call(admin, 'GET', `/os-keypairs?user_id=${demoUser}`, '2.10');
    assert.equal(r.body.keypairs.length, 4);
    assert.equal((await call(demo, 'GET', '/os-keypairs?user_id=someone-else', '2.10')).status, 403);
    assert.equal((await call(demo, 'GET', '/os-keypairs?foo=1', '2.74')).status, 200);
    assert.equal((await call(demo, 'GET', '/os-keypairs?foo=1', '2.75')).status, 400);
    assert.equal((await call(demo, 'GET', '/os-keypairs/gen?foo=1', '2.75')).status, 400);

    r = await call(demo, 'DELETE', '/os-keypairs/me@example.com', '2.92');
    assertTempest('keypairs', 'delete_keypair', '2.92', r);
    assert.equal((await call(demo, 'DELETE', '/os-keypairs/me@example.com', '2.92')).status, 404);
    assert.equal((await call(demo, 'DELETE', '/os-keypairs/gen21', '2.1')).status, 202);
  });
});
