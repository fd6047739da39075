/**
 * `db sync` started by several processes at once (services booting together) applies each
 * migration exactly once, on every engine: the migration lock and the re-check under it work
 * across processes, including SQLite's file lock with WAL and busy_timeout.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../../src/common/db/connection.js';
import { dbVersion } from '../../../src/common/db/migrate.js';
import { engines } from '../../conformance/db/engines.js';

const run = promisify(execFile);
const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sync-worker.ts');
const all = await engines();
after(async () => {
  for (const e of all) await e.cleanup();
});

for (const engine of all) {
  void describe(`db sync from several processes: ${engine.name}`, { skip: engine.skip || undefined }, () => {
    void test('each migration is applied once', async () => {
      const url = await engine.create();
      const results = await Promise.all(
        [1, 2].map(async () => {
          const { stdout } = await run(process.execPath, ['--import', 'tsx', worker, url], { timeout: 50_000 });
          return JSON.parse(stdout) as { applied: string[] };
        }),
      );
      const applied = results.flatMap((r) => r.applied).sort();
      assert.deepEqual(applied, ['001_a', '002_b', '003_c', '004_d']);
      const d = await openDatabase(url);
      try {
        assert.deepEqual((await dbVersion(d, 'stratus_it')).applied, ['001_a', '002_b', '003_c', '004_d']);
        for (const t of ['a', 'b', 'c', 'd']) {
          assert.deepEqual(await d.db.selectFrom(`table_${t}`).select('name').execute(), [{ name: t }]);
        }
      } finally {
        await d.close();
      }
    });
  });
}
