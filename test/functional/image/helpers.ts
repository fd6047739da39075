/** A Glance app on an in-memory SQLite database with fixed test tokens. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../../src/common/errors.js';
import { openDatabase } from '../../../src/common/db/index.js';
import type { TokenValidator, ValidatedToken } from '../../../src/common/http/auth-types.js';
import { createImageApp } from '../../../src/image/service.js';

export const PROJECT_A = 'a0000000000000000000000000000001';
export const PROJECT_B = 'b0000000000000000000000000000002';
export const ADMIN_PROJECT = 'ad000000000000000000000000000003';
export const PROJECT_C = 'c0000000000000000000000000000004';

function token(projectId: string, roles: string[]): ValidatedToken {
  return {
    userId: `user-${projectId}-${roles[0]}`, userName: 'u', userDomainId: 'default', projectId, projectName: projectId,
    projectDomainId: 'default', roles, methods: ['password'], auditIds: ['x'],
    expiresAt: '2099-01-01T00:00:00Z', issuedAt: '2024-01-01T00:00:00Z',
  };
}

/** Tokens: 'member-a', 'reader-a', 'member-b', 'member-c', 'admin'. */
export const TOKENS: Record<string, ValidatedToken> = {
  'member-a': token(PROJECT_A, ['member', 'reader']),
  'reader-a': token(PROJECT_A, ['reader']),
  'member-b': token(PROJECT_B, ['member', 'reader']),
  'member-c': token(PROJECT_C, ['member', 'reader']),
  admin: token(ADMIN_PROJECT, ['admin', 'member', 'reader']),
};

export const testValidator: TokenValidator = {
  async validate(t: string) {
    const v = TOKENS[t];
    if (!v) throw new ApiError(401, 'The request you have made requires authentication.');
    return v;
  },
};

export interface Glance {
  app: FastifyInstance;
  stateDir: string;
  close(): Promise<void>;
}

export async function startGlance(opts: { sizeCap?: number } = {}): Promise<Glance> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'glance-func-'));
  const database = await openDatabase('sqlite://', { service: 'glance' });
  const app = await createImageApp({ database, stateDir, validator: testValidator, authUrl: 'http://keystone/v3', ...opts });
  await app.ready();
  return {
    app,
    stateDir,
    async close() {
      await app.close();
      await database.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
