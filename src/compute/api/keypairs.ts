/**
 * /os-keypairs: generate (RSA, OpenSSH public key, PEM private key) or import, per user,
 * `type` ssh|x509 (2.2), `user_id` for admins (2.10).
 * @module
 */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest, conflict, notFound } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import type { Database } from '../../common/db/connection.js';
import * as apiDb from '../db/api-api.js';
import { mv } from './common.js';

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

export function registerKeypairs(app: FastifyInstance, api: Database): void {
  const userFor = (req: any, q?: string) => {
    if (q && q !== req.ctx.userId) {
      if (!req.ctx.isAdmin) throw new ApiError(403, "Policy doesn't allow os_compute_api:os-keypairs:index to be performed.", { type: 'PolicyNotAuthorized' });
      return q;
    }
    return req.ctx.userId as string;
  };
  const view = (req: any, k: Record<string, any>, full: boolean) => {
    const v: Record<string, unknown> = { name: k['name'], public_key: k['public_key'], fingerprint: k['fingerprint'] };
    if (mv(req, '2.2')) v['type'] = k['type'];
    if (full) Object.assign(v, { user_id: k['user_id'], created_at: k['created_at'].replace('Z', '').replace(/\.(\d{3})$/, '.$1000'), deleted: false, deleted_at: null, updated_at: null, id: k['id'] });
    return v;
  };

  app.get('/os-keypairs', async (req) => {
    const q = req.query as Record<string, string>;
    const user = userFor(req, mv(req, '2.10') ? q['user_id'] : undefined);
    return { keypairs: (await apiDb.keypairList(api, user)).map((k) => ({ keypair: view(req, k, false) })) };
  });
  app.get<{ Params: { name: string } }>('/os-keypairs/:name', async (req) => {
    const q = req.query as Record<string, string>;
    const k = await apiDb.keypairGet(api, userFor(req, mv(req, '2.10') ? q['user_id'] : undefined), req.params.name);
    if (!k) throw notFound(`Keypair ${req.params.name} not found for user ${req.ctx.userId}`, { type: 'KeypairNotFound' });
    return { keypair: view(req, k, true) };
  });
  app.delete<{ Params: { name: string } }>('/os-keypairs/:name', async (req, reply) => {
    const q = req.query as Record<string, string>;
    if (!(await apiDb.keypairDestroy(api, userFor(req, mv(req, '2.10') ? q['user_id'] : undefined), req.params.name))) {
      throw notFound(`Keypair ${req.params.name} not found for user ${req.ctx.userId}`, { type: 'KeypairNotFound' });
    }
    reply.code(mv(req, '2.2') ? 204 : 202);
    return reply.send();
  });
  app.post('/os-keypairs', async (req, reply) => {
    const body = validateBody<{ keypair: Record<string, string> }>(req, {
      type: 'object', required: ['keypair'], additionalProperties: false,
      properties: {
        keypair: {
          type: 'object', required: ['name'], additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9 _.@-]+$' }, public_key: { type: 'string' },
            type: { type: 'string', enum: ['ssh', 'x509'] }, user_id: { type: 'string' },
          },
        },
      },
    });
    const kp = body.keypair;
    const user = userFor(req, mv(req, '2.10') ? kp['user_id'] : undefined);
    if (await apiDb.keypairGet(api, user, kp['name']!)) throw conflict(`Key pair '${kp['name']}' already exists.`, { type: 'KeyPairExists' });
    const type = mv(req, '2.2') ? (kp['type'] ?? 'ssh') : 'ssh';
    let publicKey = kp['public_key'];
    let privateKey: string | null = null;
    if (!publicKey) {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      privateKey = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      publicKey = opensshPublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'Generated-by-Nova');
    }
    const fp = type === 'x509' ? createHash('sha1').update(publicKey).digest('hex').match(/../g)!.join(':') : fingerprint(publicKey);
    const row = await apiDb.keypairCreate(api, { name: kp['name']!, user_id: user, fingerprint: fp, public_key: publicKey, type });
    const v: Record<string, unknown> = { ...view(req, row, false), user_id: user };
    if (privateKey) v['private_key'] = privateKey;
    reply.code(mv(req, '2.2') ? 201 : 200);
    return { keypair: v };
  });
}
