import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from './password.js';

test('verification: right password true (again from the cache), wrong ones false, other hashes untouched', async () => {
  const h = await hashPassword('s3cret', 4);
  assert.equal(await verifyPassword('s3cret', h), true);
  assert.equal(await verifyPassword('s3cret', h), true, 'a remembered success');
  assert.equal(await verifyPassword('s3cret!', h), false);
  assert.equal(await verifyPassword('', h), false);
  const other = await hashPassword('different', 4);
  assert.equal(await verifyPassword('s3cret', other), false, 'the cache is keyed by the stored hash too');
  assert.equal(await verifyPassword('s3cret', 'plain-text'), false);
});
