/**
 * What the bytes of an image say: the download range a request asks for, and the virtual
 * size of the disk they hold.
 * @module
 */
import { ApiError } from '../common/errors.js';

export interface DownloadRange {
  start: number;
  /** inclusive */
  end: number;
}

/**
 * What glance's format inspector reports as `virtual_size`: the data size for raw, the size in
 * the header for qcow2 (magic `QFI\xfb`, big-endian u64 at offset 24), otherwise unknown.
 */
export function virtualSize(diskFormat: string | null, size: number, head: Buffer): number | null {
  if (diskFormat === 'raw') return size;
  if (diskFormat === 'qcow2' && head.length >= 32 && head.readUInt32BE(0) === 0x514649fb) return Number(head.readBigUInt64BE(24));
  return null;
}

/**
 * The byte range a download asks for (webob's Range / glance's legacy Content-Range), or
 * undefined for the whole image; 416 for a range that cannot be served, 400 for several.
 */
export function parseRange(size: number, range?: string, contentRange?: string): DownloadRange | undefined {
  if (range !== undefined) {
    if (range.includes(',')) {
      throw new ApiError(400, 'Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.');
    }
    const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(range);
    if (!m || (m[1] === '' && m[2] === '')) throw new ApiError(416, 'Invalid Range header.');
    if (m[1] === '') {
      const suffix = Number(m[2]);
      if (suffix === 0) throw new ApiError(416, 'Invalid Range header.');
      return { start: Math.max(0, size - suffix), end: size - 1 };
    }
    const start = Number(m[1]);
    const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) throw new ApiError(416, 'Invalid Range header.');
    if (start >= size) {
      throw new ApiError(416, `Invalid start position in Range header. Start position MUST be in the inclusive range [0, ${size - 1}].`);
    }
    return { start, end };
  }
  if (contentRange !== undefined) {
    const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(contentRange);
    if (!m || Number(m[2]) < Number(m[1])) throw new ApiError(416, 'Invalid Content-Range header.');
    const start = Number(m[1]);
    const stop = Number(m[2]) + 1;
    if (stop > size) {
      throw new ApiError(416, `Invalid stop position in Content-Range header. The stop position MUST be in the inclusive range [0, ${size - 1}].`);
    }
    return { start, end: stop - 1 };
  }
  return undefined;
}
