const IPV4_PRIVATE: [number, number][] = [
  [0x0a000000, 8], // 10.0.0.0/8
  [0xac100000, 12], // 172.16.0.0/12
  [0xc0a80000, 16], // 192.168.0.0/16
  [0x64400000, 10], // 100.64.0.0/10 (carrier-grade NAT)
  [0x7f000000, 8], // 127.0.0.0/8
  [0xa9fe0000, 16], // 169.254.0.0/16
];

function ipv4Within(base: number, prefix: number, [net, bits]: [number, number]): boolean {
  if (prefix < bits) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (base & mask) >>> 0 === net;
}

/**
 * The internet in practice: a /0 in either family, or a public range so wide that splitting the world
 * into pieces cannot hide it (two /1 halves are the world too): IPv4 /8 or shorter outside the private
 * ranges, IPv6 /16 or shorter outside unique-local and link-local space. `0.0.0.0/16` and
 * `10.0.0.0/8` are not the world.
 */
export function isWorld(cidr: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (v4) {
    const [a, b, c, d, p] = v4.slice(1).map(Number) as [number, number, number, number, number];
    if (p > 32 || [a, b, c, d].some((o) => o > 255)) return false;
    if (p === 0) return true;
    if (p > 8) return false;
    const base = (((a << 24) | (b << 16) | (c << 8) | d) >>> 0) & ((0xffffffff << (32 - p)) >>> 0);
    return !IPV4_PRIVATE.some((range) => ipv4Within(base >>> 0, p, range));
  }
  const v6 = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(cidr);
  if (v6) {
    const p = Number(v6[2]);
    if (p === 0) return true;
    if (p > 16) return false;
    const first = Number.parseInt((v6[1] as string).split(':')[0] || '0', 16);
    // fc00::/7 unique-local, fe80::/10 link-local
    return !((first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80);
  }
  return false;
}
