import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigOpts } from './config.js';
import { resolveNovaMoveConfig } from './nova-move-opts.js';

void test("nova move options: Nova's defaults, nova.conf [DEFAULT], OS_DEFAULT__ environment above files", () => {
  assert.deepEqual(resolveNovaMoveConfig(new ConfigOpts({})), { allowResizeToSameHost: false, resizeConfirmWindowSec: 0, shelvedOffloadTimeSec: 0, maxConcurrentLiveMigrations: 1 });
  const dir = mkdtempSync(path.join(tmpdir(), 'nova-move-opts-'));
  try {
    const file = path.join(dir, 'nova.conf');
    writeFileSync(file, '[DEFAULT]\nallow_resize_to_same_host = True\nresize_confirm_window = 30\nshelved_offload_time = -1\nmax_concurrent_live_migrations = 0\n');
    const fromFile = new ConfigOpts({});
    fromFile.load({ configFiles: [file] });
    assert.deepEqual(resolveNovaMoveConfig(fromFile), { allowResizeToSameHost: true, resizeConfirmWindowSec: 30, shelvedOffloadTimeSec: -1, maxConcurrentLiveMigrations: 0 });
    const withEnv = new ConfigOpts({ OS_DEFAULT__RESIZE_CONFIRM_WINDOW: '5' });
    withEnv.load({ configFiles: [file] });
    assert.equal(resolveNovaMoveConfig(withEnv).resizeConfirmWindowSec, 5);
    const bad = new ConfigOpts({ OS_DEFAULT__SHELVED_OFFLOAD_TIME: '-2' });
    assert.throws(() => resolveNovaMoveConfig(bad), /greater than or equal to -1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
