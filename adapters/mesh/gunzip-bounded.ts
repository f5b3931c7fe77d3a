import zlib from 'node:zlib';
import { MeshError } from '../../src/ports/mesh-mailbox.js';

/**
 * Unpacks gzip (one stream, or several members back to back) keeping at most `limit` bytes: a gzip bomb stops
 * there. `complete` false: the input is only the head of a larger body, so an early end is expected and what was
 * unpacked is returned as over the limit. A corrupt complete body is a protocol error.
 */
export function gunzipBounded(input: Buffer, limit: number, complete: boolean): Promise<{ bytes: Buffer; seen: number; over: boolean }> {
  return new Promise((resolve, reject) => {
    const gunzip = zlib.createGunzip();
    const parts: Buffer[] = [];
    let seen = 0;
    let settled = false;
    const finish = (over: boolean): void => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      const bytes = Buffer.concat(parts);
      resolve({ bytes: bytes.length > limit ? bytes.subarray(0, limit) : bytes, seen, over });
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (settled) return;
      seen += chunk.length;
      parts.push(chunk);
      if (seen > limit) finish(true);
    });
    gunzip.on('end', () => finish(false));
    gunzip.on('error', (err) => {
      if (settled) return;
      if (!complete) {
        finish(true);
        return;
      }
      settled = true;
      reject(new MeshError('protocol', 'MESH message is marked gzip but cannot be unpacked', undefined, { cause: err }));
    });
    gunzip.end(input);
  });
}
