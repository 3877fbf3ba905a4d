import dns, { type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where webhooks may be sent. Any account can create a hook and read its delivery log, answers
 * included, so a hook aimed inside the server's own network would let it read services that
 * trust that network (cloud metadata at 169.254.169.254, an admin port on loopback). Addresses
 * of the IANA special-purpose registries are refused unless the deployment allows them
 * (GITFLEET_HOOK_ALLOWED_NETWORKS): when a hook is saved, and again on the address each delivery
 * actually connects to, so a name that resolves elsewhere later (DNS rebinding) gains nothing.
 */

/** [network, prefix length, what it is] */
const SPECIAL_IPV4: ReadonlyArray<[string, number, string]> = [
  ['0.0.0.0', 8, 'this-network (unspecified)'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (and broadcast)'],
];

const SPECIAL_IPV6: ReadonlyArray<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible (deprecated)'],
  ['::ffff:0:0:0', 96, 'IPv4-translated'],
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001::', 32, 'Teredo'],
  ['2001:10::', 28, 'ORCHID'],
  ['2001:20::', 28, 'ORCHIDv2'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

interface Rule {
  list: BlockList;
  label: string;
}

function rules(): Rule[] {
  const make =
    (family: 'ipv4' | 'ipv6') =>
    ([network, prefix, label]: [string, number, string]): Rule => {
      const list = new BlockList();
      list.addSubnet(network, prefix, family);
      return { list, label };
    };
  // A BlockList rule for IPv4 also covers the IPv4-mapped IPv6 form (::ffff:127.0.0.1).
  return [...SPECIAL_IPV4.map(make('ipv4')), ...SPECIAL_IPV6.map(make('ipv6'))];
}

const SPECIAL = rules();
/** NAT64's well-known prefix carries an IPv4 address in its last 32 bits: that one is judged. */
const NAT64 = new BlockList();
NAT64.addSubnet('64:ff9b::', 96, 'ipv6');

/** A delivery or a hook refused for where it would go. */
export class HookTargetRefused extends Error {
  override name = 'HookTargetRefused';
  readonly code = 'EHOOKTARGET';
}

/** An entry of the allow-list that is neither a network, an address nor a host name. */
export class InvalidAllowedNetwork extends Error {
  override name = 'InvalidAllowedNetwork';
}

export type LookupAll = (
  hostname: string,
  options: { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** The `lookup` option of net/http connections. */
export type ConnectLookup = (
  hostname: string,
  options: dns.LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

export interface HookTargetPolicyOptions {
  /** Networks (CIDR), addresses and host names webhooks may reach even though they are special. */
  allowed: readonly string[];
  /** Name resolution; dns.lookup (the system's resolver, hosts file included) by default. */
  resolve?: LookupAll;
}

export class HookTargetPolicy {
  private readonly allowedNetworks = new BlockList();
  private readonly allowedHosts = new Set<string>();
  private readonly resolve: LookupAll;

  constructor(options: HookTargetPolicyOptions) {
    for (const entry of options.allowed) {
      const parsed = parseAllowedEntry(entry);
      if (parsed.kind === 'host') this.allowedHosts.add(parsed.host);
      else if (parsed.kind === 'address') this.allowedNetworks.addAddress(parsed.address, parsed.family);
      else this.allowedNetworks.addSubnet(parsed.network, parsed.prefix, parsed.family);
    }
    this.resolve = options.resolve ?? dns.lookup;
  }

  /** Why webhooks may not connect to this IP address; undefined when they may. */
  refusal(address: string): string | undefined {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (this.allowedNetworks.check(address, family)) return undefined;
    const special = specialPurpose(address, family);
    return special === undefined ? undefined : `${address} is a ${special} address`;
  }

  /**
   * Checks a hook's URL as it is saved: an address in it, or every address its host name
   * resolves to now. A name that does not resolve now is accepted: each delivery checks again.
   */
  async checkUrl(url: string): Promise<void> {
    const host = hostOf(url);
    if (this.allowedHosts.has(host)) return;
    if (isIP(host)) return this.assertAllowed(host, host);
    let addresses: LookupAddress[];
    try {
      addresses = await new Promise((done, fail) =>
        this.resolve(host, { all: true }, (error, found) => (error ? fail(error) : done(found))),
      );
    } catch {
      return;
    }
    for (const { address } of addresses) this.assertAllowed(host, address);
  }

  /** Throws HookTargetRefused when a delivery to `url` may not even start (its host is a refused address). */
  checkLiteralHost(url: string): void {
    const host = hostOf(url);
    if (isIP(host) && !this.allowedHosts.has(host)) this.assertAllowed(host, host);
  }

  /**
   * For the connection of a delivery: resolves the name and keeps only the addresses that may
   * be reached, failing with HookTargetRefused when none is left. Node skips `lookup` for an
   * IP address in the URL, which checkLiteralHost covers.
   */
  readonly lookup: ConnectLookup = (hostname, options, callback) => {
    const host = normalizeHost(hostname);
    this.resolve(hostname, { all: true }, (error, found) => {
      if (error) return callback(error, []);
      const family = options.family === 4 || options.family === 6 ? options.family : undefined;
      const candidates = found.filter((entry) => family === undefined || entry.family === family);
      const permitted = this.allowedHosts.has(host) ? candidates : candidates.filter((entry) => this.refusal(entry.address) === undefined);
      if (permitted.length === 0) {
        const refused = candidates.map((entry) => this.refusal(entry.address)).find((reason) => reason !== undefined);
        return callback(
          refused ? this.refused(host, refused) : Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }),
          [],
        );
      }
      if (options.all) callback(null, permitted);
      else callback(null, permitted[0].address, permitted[0].family);
    });
  };

  private assertAllowed(host: string, address: string): void {
    const reason = this.refusal(address);
    if (reason !== undefined) throw this.refused(host, reason);
  }

  private refused(host: string, reason: string): HookTargetRefused {
    const where = isIP(host) ? reason : `${host} resolves to ${reason.replace(/^(\S+) is/, '$1, which is')}`;
    return new HookTargetRefused(
      `${where}: webhooks may not reach loopback, private, link-local or other special-purpose addresses unless GITFLEET_HOOK_ALLOWED_NETWORKS allows them`,
    );
  }
}

/** Checks the entries of GITFLEET_HOOK_ALLOWED_NETWORKS; throws InvalidAllowedNetwork naming the first bad one. */
export function validateAllowedNetworks(entries: readonly string[]): void {
  for (const entry of entries) parseAllowedEntry(entry);
}

type AllowedEntry =
  | { kind: 'host'; host: string }
  | { kind: 'address'; address: string; family: 'ipv4' | 'ipv6' }
  | { kind: 'network'; network: string; prefix: number; family: 'ipv4' | 'ipv6' };

function parseAllowedEntry(entry: string): AllowedEntry {
  const [address, prefixText, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version !== 0) {
    const family = version === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) return { kind: 'address', address, family };
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (rest.length === 0 && prefix <= (version === 4 ? 32 : 128)) return { kind: 'network', network: address, prefix, family };
  } else if (prefixText === undefined && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(entry)) {
    return { kind: 'host', host: normalizeHost(entry) };
  }
  throw new InvalidAllowedNetwork(
    `${JSON.stringify(entry)}: expected a network (10.0.0.0/8, fd00::/8), an address (10.1.2.3) or a host name (ci.internal)`,
  );
}

function specialPurpose(address: string, family: 'ipv4' | 'ipv6'): string | undefined {
  const rule = SPECIAL.find(({ list }) => list.check(address, family));
  if (rule) return rule.label;
  if (family === 'ipv6' && NAT64.check(address, 'ipv6')) {
    const embedded = embeddedIpv4(address);
    const inner = specialPurpose(embedded, 'ipv4');
    return inner === undefined ? undefined : `NAT64 form of a ${inner}`;
  }
  return undefined;
}

/** The IPv4 address in the last 32 bits of an IPv6 address. */
function embeddedIpv4(address: string): string {
  const groups = ipv6Groups(address);
  const [high, low] = [groups[6], groups[7]];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The eight 16-bit groups of an IPv6 address (already known to be valid). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** The host of a URL as compared and resolved: lower case, without IPv6 brackets or a final dot. */
function hostOf(url: string): string {
  return normalizeHost(new URL(url).hostname);
}

function normalizeHost(host: string): string {
  return host
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}
