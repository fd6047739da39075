/**
 * The images `stratus up` registers, as devstack uploads cirros: a small bootable raw disk
 * (an MBR whose boot code prints a banner and halts, one partition, the rest sparse) made
 * here since nothing can be downloaded, and a second, distinct one for Tempest's alt image.
 * @module
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { RequestContext } from '../common/context.js';
import type { ImageAPI } from './api.js';
import type { Image } from './db/repository.js';

export const DEFAULT_IMAGE_NAME = 'cirros-0.6.2-x86_64-disk';
export const ALT_IMAGE_NAME = 'stratus-alt-disk';

/** 16-bit real-mode boot code: print the NUL-terminated banner at 0x7c00+msg via BIOS int 10h, then halt. */
function bootCode(banner: string): Buffer {
  const msg = Buffer.from(`${banner}\r\n\0`, 'ascii');
  const code = [
    0xfa, // cli
    0x31, 0xc0, // xor ax, ax
    0x8e, 0xd8, // mov ds, ax
    0xfb, // sti
    0xbe, 0x00, 0x00, // mov si, <msg> (patched below)
    0xb4, 0x0e, // mov ah, 0x0e
    0xac, // .loop: lodsb
    0x84, 0xc0, // test al, al
    0x74, 0x04, // jz .halt
    0xcd, 0x10, // int 0x10
    0xeb, 0xf7, // jmp .loop
    0xf4, // .halt: hlt
    0xeb, 0xfd, // jmp .halt
  ];
  const msgAddr = 0x7c00 + code.length;
  code[7] = msgAddr & 0xff;
  code[8] = msgAddr >> 8;
  return Buffer.concat([Buffer.from(code), msg]);
}

/**
 * Writes a sparse raw disk of `sizeMiB` with a valid MBR: boot code, one bootable Linux
 * partition from sector 2048 to the end, signature 0x55AA. `banner` makes images distinct.
 */
export async function writeBootableDiskImage(file: string, opts: { sizeMiB?: number; banner?: string } = {}): Promise<void> {
  const size = (opts.sizeMiB ?? 8) * 1024 * 1024;
  const mbr = Buffer.alloc(512);
  const code = bootCode(opts.banner ?? 'Stratus default image');
  if (code.length > 440) throw new Error('banner too long for the MBR boot code area');
  code.copy(mbr, 0);
  mbr.writeUInt32LE(0x5354_5253, 440); // disk signature "SRTS"
  const start = 2048;
  const sectors = size / 512 - start;
  const p = 446;
  mbr[p] = 0x80; // bootable
  mbr.set([0xfe, 0xff, 0xff], p + 1); // CHS start: use LBA
  mbr[p + 4] = 0x83; // Linux
  mbr.set([0xfe, 0xff, 0xff], p + 5); // CHS end: use LBA
  mbr.writeUInt32LE(start, p + 8);
  mbr.writeUInt32LE(sectors, p + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  await mkdir(path.dirname(file), { recursive: true });
  const fh = await open(file, 'w');
  try {
    await fh.write(mbr, 0, 512, 0);
    // A marker at the partition start so the partition is not all zeros.
    await fh.write(Buffer.from(`${opts.banner ?? 'Stratus default image'}\n`), 0, undefined, start * 512);
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
}

function facade(target: FastifyInstance | ImageAPI): ImageAPI {
  return 'imageApi' in target ? (target as FastifyInstance).imageApi : (target as ImageAPI);
}

export interface DefaultImageOptions {
  name: string;
  /** The disk file to upload; generated (sparse raw with an MBR) when it does not exist. */
  file: string;
  /** Project that owns it (devstack: the admin project); null leaves it ownerless. */
  owner?: string | null;
  banner?: string;
  sizeMiB?: number;
}

/** Registers a public, active raw image once (idempotent by name), uploading `file`. */
export async function ensureDefaultImage(target: FastifyInstance | ImageAPI, o: DefaultImageOptions): Promise<Image> {
  const api = facade(target);
  const ctx = RequestContext.admin({ projectId: o.owner ?? null });
  const { images } = await api.list(ctx, {
    conditions: [{ column: 'name', op: '=', value: o.name }],
    properties: {}, tags: [], memberStatus: 'all', visibility: 'all', limit: 10, sortKeys: ['created_at'], sortDirs: ['asc'],
  });
  // Registered already (an operator may have deactivated it since: leave it so).
  const done = images.find((i) => i.status === 'active' || i.status === 'deactivated');
  if (done) return done;
  const exists = await stat(o.file).then(() => true, () => false);
  if (!exists) await writeBootableDiskImage(o.file, { ...(o.sizeMiB ? { sizeMiB: o.sizeMiB } : {}), ...(o.banner ? { banner: o.banner } : {}) });
  const image = images.find((i) => i.status === 'queued') ?? (await api.create(ctx, {
    name: o.name, disk_format: 'raw', container_format: 'bare', visibility: 'public', ...(o.owner ? { owner: o.owner } : {}),
  }));
  return api.upload(ctx, image.id, createReadStream(o.file));
}

/** The default image and Tempest's distinct alt image, files kept under `dir`. */
export async function ensureDefaultImages(target: FastifyInstance | ImageAPI, o: { dir: string; owner?: string | null }): Promise<Image[]> {
  const main = await ensureDefaultImage(target, {
    name: DEFAULT_IMAGE_NAME, file: path.join(o.dir, `${DEFAULT_IMAGE_NAME}.img`), owner: o.owner ?? null, banner: 'Stratus default image',
  });
  const alt = await ensureDefaultImage(target, {
    name: ALT_IMAGE_NAME, file: path.join(o.dir, `${ALT_IMAGE_NAME}.img`), owner: o.owner ?? null, banner: 'Stratus alternate image',
  });
  return [main, alt];
}
