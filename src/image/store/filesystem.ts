/**
 * The filesystem image store (glance_store's `file` driver): one file per image under a
 * directory, written through a temporary file and renamed into place, hashed on the fly
 * (md5 for `checksum`, sha512 for `os_hash_value`) so a 1 GB upload never sits in memory.
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApiError } from '../../common/errors.js';
import { HASH_ALGO } from '../domain.js';

export interface StoredImage {
  /** `file:///…/<image id>` */
  url: string;
  size: number;
  /** md5 hex digest */
  checksum: string;
  hashAlgo: string;
  hashValue: string;
  /** The first bytes of the data (up to 512), for format inspection. */
  head: Buffer;
}

export interface AddOptions {
  /** Refuse (413) anything larger than this many bytes. */
  maxSize?: number;
}

export class FilesystemStore {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Streams `data` into the store; rejects with 413 past `maxSize` and leaves nothing behind. */
  async add(imageId: string, data: AsyncIterable<Buffer | Uint8Array> | Readable, opts: AddOptions = {}): Promise<StoredImage> {
    await this.init();
    const final = this.pathFor(imageId);
    const tmp = `${final}.${process.pid}.${Date.now()}.part`;
    const md5 = createHash('md5');
    const sha = createHash(HASH_ALGO);
    let size = 0;
    const headParts: Buffer[] = [];
    let headLen = 0;
    const max = opts.maxSize ?? Number.POSITIVE_INFINITY;
    try {
      await pipeline(
        data,
        async function* hashAndCount(source: AsyncIterable<Buffer | Uint8Array>) {
          for await (const chunk of source) {
            size += chunk.length;
            if (size > max) {
              throw new ApiError(413, `The incoming image is too large: Image exceeds the storage quota: ${size} bytes exceeds ${max}`, {
                type: 'ImageSizeLimitExceeded',
              });
            }
            if (headLen < 512) {
              const b = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, 512 - headLen));
              headParts.push(Buffer.from(b));
              headLen += b.length;
            }
            md5.update(chunk);
            sha.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(tmp),
      );
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return { url: pathToFileURL(final).href, size, checksum: md5.digest('hex'), hashAlgo: HASH_ALGO, hashValue: sha.digest('hex'), head: Buffer.concat(headParts) };
  }

  /** A stream of the stored bytes `[start, end]` (inclusive, like fs.createReadStream). */
  open(url: string, range: { start?: number; end?: number } = {}): Readable {
    return createReadStream(this.fileOf(url), range);
  }

  async exists(url: string): Promise<boolean> {
    try {
      await stat(this.fileOf(url));
      return true;
    } catch {
      return false;
    }
  }

  async delete(url: string): Promise<void> {
    await rm(this.fileOf(url), { force: true });
  }

  pathFor(imageId: string): string {
    if (!/^[0-9A-Za-z-]+$/.test(imageId)) throw new ApiError(400, `Invalid image id ${imageId}`);
    return path.join(this.dir, imageId);
  }

  /** Only `file://` URLs under this store's directory are ours to read or delete. */
  private fileOf(url: string): string {
    if (!url.startsWith('file://')) throw new ApiError(400, `Unknown scheme for location ${url}`);
    const p = fileURLToPath(url);
    if (path.dirname(p) !== path.resolve(this.dir)) throw new ApiError(400, `Location ${url} is outside the image store`);
    return p;
  }
}
