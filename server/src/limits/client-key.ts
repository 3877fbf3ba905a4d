import { isIPv4, isIPv6 } from 'node:net';

/**
 * What per-client limits count a client by: its IPv4 address, or the /64 network of its IPv6
 * address. A host (or a home router's subscriber) is handed a whole /64 and may use any address
 * in it; counting single IPv6 addresses would give it 2^64 budgets.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone dropped, `::` expanded, a trailing IPv4 part as two groups), in short hex. */
function ipv6Groups(address: string): string[] {
  const [head, tail] = address.split('%')[0].toLowerCase().split('::');
  const groupsOf = (part: string | undefined): string[] =>
    part === undefined || part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!isIPv4(group)) return [group];
          const [a, b, c, d] = group.split('.').map(Number);
          return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
        });
  const before = groupsOf(head);
  const after = groupsOf(tail);
  const zeros = tail === undefined ? [] : Array<string>(8 - before.length - after.length).fill('0');
  return [...before, ...zeros, ...after].map((group) => parseInt(group, 16).toString(16));
}
