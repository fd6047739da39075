/**
 * /os-keypairs: generate (RSA, OpenSSH public key, PEM private key) or import, per user,
 * `type` ssh|x509 (2.2), `user_id` for admins (2.10), paging by name (2.35), strict query
 * (2.75); from 2.92 import only (public_key required) and names may hold '@' and '.'.
 * @module
 */
import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest, conflict, notFound } from '../../common/errors.js';
import { validateBody, validateQuery, type VersionedSchema } from '../../common/http/validation.js';
import type { Database } from '../../common/db/connection.js';
import * as apiDb from '../db/api-api.js';
import { baseUrl, mv } from './common.js';
import { projectLimits } from '../quota.js';

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
function mpint(b: Buffer): Buffer {
  let x = b;
  while (x.length > 1 && x[0] === 0 && (x[1]! & 0x80) === 0) x = x.subarray(1);
  if (x[0]! & 0x80) x = Buffer.concat([Buffer.from([0]), x]);
  return sshString(x);
}

/** OpenSSH `ssh-rsa AAAA...` for a node RSA public key. */
function opensshPublicKey(pem: string, comment: string): string {
  const jwk = createPublicKey(pem).export({ format: 'jwk' }) as { n: string; e: string };
  const blob = Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(Buffer.from(jwk.e, 'base64url')), mpint(Buffer.from(jwk.n, 'base64url'))]);
  return `ssh-rsa ${blob.toString('base64')} ${comment}`;
}

export function fingerprint(publicKey: string): string {
  const parts = publicKey.trim().split(/\s+/);
  const blob = Buffer.from(parts[1] ?? '', 'base64');
  if (!/^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp\d+)$/.test(parts[0] ?? '') || blob.length < 16) throw badRequest('Keypair data is invalid: failed to generate fingerprint', { type: 'InvalidKeypair' });
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}

/** CONF.api.max_limit. */
const MAX_LIMIT = 1000;
const keypairName = (pattern: string) => ({ allOf: [{ type: 'string', format: 'name' }, { type: 'string', pattern, minLength: 1, maxLength: 255 }] });
const NAME = keypairName('^[_\\- a-zA-Z0-9]+$');
const NAME_V292 = keypairName('^[_\\-@. a-zA-Z0-9]+$');
const createBody = (props: Record<string, unknown>, required = ['name']) => ({
  type: 'object', required: ['keypair'], additionalProperties: false,
  properties: { keypair: { type: 'object', required, additionalProperties: false, properties: props } },
});
const TYPE = { type: 'string', enum: ['ssh', 'x509'] };
const CREATE: VersionedSchema[] = [
  { schema: createBody({ name: NAME, public_key: { type: 'string' } }), max: '2.1' },
  { schema: createBody({ name: NAME, type: TYPE, public_key: { type: 'string' } }), min: '2.2', max: '2.9' },
  { schema: createBody({ name: NAME, type: TYPE, public_key: { type: 'string' }, user_id: { type: 'string' } }), min: '2.10', max: '2.91' },
  { schema: createBody({ name: NAME_V292, type: TYPE, public_key: { type: 'string' }, user_id: { type: 'string' } }, ['name', 'public_key']), min: '2.92' },
];
const strings = { type: 'array', items: { type: 'string' } };
const userQuery: VersionedSchema[] = [
  { schema: { type: 'object', additionalProperties: true }, max: '2.9' },
  { schema: { type: 'object', properties: { user_id: strings }, additionalProperties: true }, min: '2.10', max: '2.74' },
  { schema: { type: 'object', properties: { user_id: strings }, additionalProperties: false }, min: '2.75' },
];
const PAGING = { limit: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } }, marker: strings };
const INDEX_QUERY: VersionedSchema[] = [
  { schema: { type: 'object', additionalProperties: true }, max: '2.9' },
  { schema: { type: 'object', properties: { user_id: strings }, additionalProperties: true }, min: '2.10', max: '2.34' },
  { schema: { type: 'object', properties: { user_id: strings, ...PAGING }, additionalProperties: true }, min: '2.35', max: '2.74' },
  { schema: { type: 'object', properties: { user_id: strings, ...PAGING }, additionalProperties: false }, min: '2.75' },
];

export function registerKeypairs(app: FastifyInstance, api: Database): void {
  /** The user whose key pairs are meant (2.10: another user's for admins only). */
  const userFor = (req: any, rule: string, q?: string) => {
    if (q && q !== req.ctx.userId) {
      if (!req.ctx.isAdmin) throw new ApiError(403, `Policy doesn't allow os_compute_api:os-keypairs:${rule} to be performed.`, { type: 'PolicyNotAuthorized' });
      return q;
    }
    return req.ctx.userId as string;
  };
  const queryUser = (req: any, q: Record<string, string[]>) => (mv(req, '2.10') ? q['user_id']?.[0] : undefined);
  const notFoundFor = (name: string, user: string) => notFound(`Keypair ${name} not found for user ${user}`, { type: 'KeypairNotFound' });
  const view = (req: any, k: Record<string, any>, full: boolean) => {
    const v: Record<string, unknown> = { name: k['name'], public_key: k['public_key'], fingerprint: k['fingerprint'] };
    if (full) Object.assign(v, { user_id: k['user_id'], created_at: k['created_at'].replace('Z', '').replace(/\.(\d{3})$/, '.$1000'), deleted: false, deleted_at: null, id: k['id'], updated_at: null });
    if (mv(req, '2.2')) v['type'] = k['type'];
    return v;
  };

  app.get('/os-keypairs', async (req) => {
    const q = validateQuery(req, INDEX_QUERY);
    const user = userFor(req, 'index', queryUser(req, q));
    let rows = await apiDb.keypairList(api, user);
    const paged = mv(req, '2.35');
    let limit = MAX_LIMIT;
    if (paged) {
      const marker = q['marker']?.[q['marker'].length - 1];
      if (marker !== undefined) {
        const i = rows.findIndex((k) => k['name'] === marker);
        if (i < 0) throw badRequest(`marker [${marker}] not found`);
        rows = rows.slice(i + 1);
      }
      const l = q['limit']?.[q['limit'].length - 1];
      if (l !== undefined) limit = Math.min(MAX_LIMIT, Number(l));
      rows = rows.slice(0, limit);
    }
    const body: Record<string, unknown> = { keypairs: rows.map((k) => ({ keypair: view(req, k, false) })) };
    if (paged && limit && rows.length === limit) {
      const params = new URLSearchParams();
      const qs: Record<string, string[]> = { ...q, marker: [String(rows[rows.length - 1]!['name'])] };
      for (const key of Object.keys(qs).sort()) for (const v of qs[key]!) params.append(key, v);
      body['keypairs_links'] = [{ rel: 'next', href: `${baseUrl(req)}/os-keypairs?${params.toString()}` }];
    }
    return body;
  });
  app.get<{ Params: { name: string } }>('/os-keypairs/:name', async (req) => {
    const q = validateQuery(req, userQuery);
    const user = userFor(req, 'show', queryUser(req, q));
    const k = await apiDb.keypairGet(api, user, req.params.name);
    if (!k) throw notFoundFor(req.params.name, user);
    return { keypair: view(req, k, true) };
  });
  app.delete<{ Params: { name: string } }>('/os-keypairs/:name', async (req, reply) => {
    const q = validateQuery(req, userQuery);
    const user = userFor(req, 'delete', queryUser(req, q));
    if (!(await apiDb.keypairDestroy(api, user, req.params.name))) throw notFoundFor(req.params.name, user);
    reply.code(mv(req, '2.2') ? 204 : 202);
    return reply.send();
  });
  app.post('/os-keypairs', async (req, reply) => {
    const body = validateBody<{ keypair: Record<string, string> }>(req, CREATE);
    const kp = body.keypair;
    const user = userFor(req, 'create', mv(req, '2.10') ? kp['user_id'] : undefined);
    const name = kp['name']!.trim();
    // The key_pairs quota of the project, counted per user as upstream does.
    const limit = (await projectLimits(api, req.ctx.projectId ?? ''))['key_pairs'] ?? -1;
    if (limit >= 0 && (await apiDb.keypairList(api, user)).length + 1 > limit) throw new ApiError(403, 'Quota exceeded, too many key pairs.', { type: 'KeypairLimitExceeded' });
    if (await apiDb.keypairGet(api, user, name)) throw conflict(`Key pair '${name}' already exists.`, { type: 'KeyPairExists' });
    const type = mv(req, '2.2') ? (kp['type'] ?? 'ssh') : 'ssh';
    let publicKey = kp['public_key'];
    let privateKey: string | null = null;
    // Generation only below 2.92 (public_key is required from then on).
    if (publicKey === undefined) {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      privateKey = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      publicKey = opensshPublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'Generated-by-Nova');
    }
    // A generated x509 pair has no certificate here (no X.509 writer in node): its fingerprint is the key's SHA-1.
    const fp = type !== 'x509' ? fingerprint(publicKey) : privateKey ? colonHex(createHash('sha1').update(publicKey).digest('hex')) : x509Fingerprint(publicKey);
    const row = await apiDb.keypairCreate(api, { name, user_id: user, fingerprint: fp, public_key: publicKey, type });
    const v: Record<string, unknown> = { ...(privateKey ? { private_key: privateKey } : {}), ...view(req, row, false), user_id: user };
    reply.code(mv(req, '2.2') ? 201 : 200);
    return { keypair: v };
  });
}

const colonHex = (hex: string) => hex.match(/../g)!.join(':');

/** An x509 certificate's SHA-1 fingerprint; a body that is no certificate is Nova's InvalidKeypair. */
function x509Fingerprint(pem: string): string {
  try {
    return new X509Certificate(pem).fingerprint.toLowerCase();
  } catch {
    throw badRequest('Keypair data is invalid: failed to generate fingerprint', { type: 'InvalidKeypair' });
  }
}
