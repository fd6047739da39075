/**
 * The Fernet key repository, with `keystone-manage fernet_setup` / `fernet_rotate` semantics:
 * key files named by integers; `0` is the staged key (next primary), the highest number is the
 * primary (encrypts), everything else decrypts. Rotation promotes `0`, stages a new `0` and
 * purges the oldest keys beyond `maxActiveKeys`.
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { generateKey } from './fernet.js';

export const DEFAULT_MAX_ACTIVE_KEYS = 3;

export class KeyRepository {
  constructor(readonly dir: string, readonly maxActiveKeys = DEFAULT_MAX_ACTIVE_KEYS) {
    if (maxActiveKeys < 1) throw new Error('max_active_keys must be at least 1');
  }

  /** `fernet_setup`: creates the directory and a staged + primary key, unless already set up. */
  setup(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (existsSync(path.join(this.dir, '0'))) return;
    this.writeStagedKey();
    this.rotate();
  }

  /** `fernet_rotate`: promote the staged key to primary, stage a new key, purge excess keys. */
  rotate(): void {
    const files = this.keyFiles();
    if (!files.has(0)) this.writeStagedKey();
    const current = Math.max(0, ...files.keys());
    const next = current + 1;
    this.writeKey('0.tmp');
    renameSync(path.join(this.dir, '0'), path.join(this.dir, String(next)));
    renameSync(path.join(this.dir, '0.tmp'), path.join(this.dir, '0'));
    files.delete(0);
    files.set(next, path.join(this.dir, String(next)));
    // the new staged key is not in `files`: keep maxActiveKeys - 1 of the rest
    const ids = [...files.keys()].sort((a, b) => b - a);
    while (ids.length > this.maxActiveKeys - 1) rmSync(files.get(ids.pop()!)!);
  }

  /** Keys primary first, then secondaries, the staged key last (Keystone's `load_keys`). */
  load(): string[] {
    const out: [number, string][] = [];
    for (const [id, file] of this.keyFiles()) {
      const key = readFileSync(file, 'utf8').trim();
      if (key) out.push([id, key]);
    }
    return out.sort((a, b) => b[0] - a[0]).map(([, k]) => k);
  }

  /** Directory mtime, so readers can notice a rotation without re-reading every key. */
  version(): number {
    try {
      return statSync(this.dir).mtimeMs;
    } catch {
      return -1;
    }
  }

  private keyFiles(): Map<number, string> {
    const m = new Map<number, string>();
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      return m;
    }
    for (const n of names) {
      if (!/^\d+$/.test(n)) continue;
      m.set(Number(n), path.join(this.dir, n));
    }
    return m;
  }

  private writeStagedKey(): void {
    this.writeKey('0.tmp');
    renameSync(path.join(this.dir, '0.tmp'), path.join(this.dir, '0'));
  }

  private writeKey(name: string): void {
    const p = path.join(this.dir, name);
    writeFileSync(p, generateKey(), { mode: 0o600 });
    chmodSync(p, 0o600);
  }
}
