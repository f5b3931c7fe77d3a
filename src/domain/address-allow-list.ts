/**
 * Source address allow-lists: a feed's `sourceAddresses`, each an IPv4 or IPv6 address or a CIDR range
 * (`10.1.2.0/24`, `2001:db8::/32`). An IPv4-mapped IPv6 peer (`::ffff:10.1.2.3`) matches its IPv4 entries.
 * Pure: no I/O.
 */

/** An address as 16 bytes (IPv4 as IPv4-mapped IPv6), or undefined when it is not one. */
export function parseAddress(text: string): Uint8Array | undefined {
  const t = text
    .trim()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '');
  const v4 = parseIpv4(t);
  if (v4) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
  return parseIpv6(t);
}

function parseIpv4(t: string): number[] | undefined {
  const parts = t.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^(0|[1-9][0-9]{0,2})$/.test(p) ? Number(p) : 256));
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function parseIpv6(t: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F:.]{2,45}$/.test(t)) return undefined;
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (const [i, p] of parts.entries()) {
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

interface Range {
  base: Uint8Array;
  bits: number;
}

/** One allow-list entry, or undefined when it is neither an address nor a CIDR range (config validation uses this). */
export function parseRange(entry: string): Range | undefined {
  const [addr = '', prefix, ...rest] = entry.split('/');
  if (rest.length > 0) return undefined;
  const base = parseAddress(addr);
  if (!base) return undefined;
  const isV4 = parseIpv4(addr.trim()) !== undefined;
  if (prefix === undefined) return { base, bits: 128 };
  if (!/^[0-9]{1,3}$/.test(prefix)) return undefined;
  const n = Number(prefix);
  if (n > (isV4 ? 32 : 128)) return undefined;
  return { base, bits: isV4 ? 96 + n : n };
}

function inRange(address: Uint8Array, r: Range): boolean {
  for (let bit = 0; bit < r.bits; bit += 8) {
    const i = bit / 8;
    const take = Math.min(8, r.bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((address[i] ?? 0) & mask) !== ((r.base[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Whether `address` (a socket's remote address) is on the list; an unreadable address is on no list. */
export function addressAllowed(address: string, list: readonly string[]): boolean {
  const a = parseAddress(address);
  if (!a) return false;
  return list.some((entry) => {
    const r = parseRange(entry);
    return r !== undefined && inRange(a, r);
  });
}
