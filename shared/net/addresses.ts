/**
 * Which addresses and host names an outbound request may reach (docs/outbound-http.md, "What is
 * refused"): one rule table for IP ranges, one for host names, used by the static URL check and again
 * at connect time.
 */
import ipaddr from 'ipaddr.js';

/** The outcome of classifying one IP address. */
export interface AddressVerdict {
  allowed: boolean;
  /** Normalised form: a dotted quad, or RFC 5952 IPv6 without a zone. Empty when the input was no IP. */
  address: string;
  family: 4 | 6 | undefined;
  /**
   * The range the address fell in: an ipaddr.js range name (`loopback`, `private`, `linkLocal`,
   * `uniqueLocal`, `unicast`…) or one of ours (`cloudMetadata`, `ipv4Compatible`, `notGlobalUnicast`,
   * `notAnAddress`).
   */
  range: string;
  /** For IPv4 carried inside IPv6 (mapped, translated, NAT64, 6to4): the IPv4 the verdict was decided on. */
  embeddedIPv4?: string;
  /** Why, in words a person understands: "a loopback address (this machine)". */
  reason: string;
}

/** Options of {@link classifyAddress} and {@link classifyHostName}. */
export interface AddressPolicyOptions {
  /**
   * Lift the refusals a local setup needs lifted (loopback, private, CGNAT, ULA, local names). The
   * caller's config decides it (`RELAY_ALLOW_PRIVATE_URLS=1`), never this module. @default false
   */
  allowPrivate?: boolean;
}

/**
 * Decides one connect target. {@link classifyAddress} is the policy; tests pass another one to
 * stand a loopback address in for a public one, so no test ever needs the outside network.
 */
export type AddressPolicy = (address: string, opts: AddressPolicyOptions) => AddressVerdict;

/** One row of the address table. */
export interface AddressRule {
  /** ipaddr.js range name, or one of ours. */
  range: string;
  /** True when `allowPrivate` lifts the refusal. */
  allowedWithPrivate: boolean;
  /** Completes "<address> is …" in a refusal message. */
  reason: string;
  note: string;
}

/**
 * Refused ranges, looked up by range name. An address in a range that is not `unicast` and not in
 * this table is refused too ("anything not unicast"), without the opt-in.
 */
export const ADDRESS_RULES: readonly AddressRule[] = [
  {
    range: 'cloudMetadata',
    allowedWithPrivate: false,
    reason: 'a cloud metadata endpoint',
    note: 'hands out instance credentials: 169.254.169.254 (AWS, GCP, Azure), fd00:ec2::254 (AWS IMDS over IPv6), 100.100.100.200 (Alibaba Cloud); refused even with the opt-in',
  },
  {
    range: 'loopback',
    allowedWithPrivate: true,
    reason: 'a loopback address (this machine)',
    note: '127.0.0.0/8 (RFC 1122), ::1 (RFC 4291): the relay itself, its admin ports, local databases',
  },
  {
    range: 'private',
    allowedWithPrivate: true,
    reason: 'a private network address',
    note: '10/8, 172.16/12, 192.168/16 (RFC 1918): the VPC or the home LAN',
  },
  {
    range: 'carrierGradeNat',
    allowedWithPrivate: true,
    reason: 'a shared carrier-grade NAT address',
    note: '100.64/10 (RFC 6598): not public; also where Tailscale puts its peers',
  },
  {
    range: 'uniqueLocal',
    allowedWithPrivate: true,
    reason: 'a private IPv6 (unique local) address',
    note: 'fc00::/7 (RFC 4193), the IPv6 counterpart of RFC 1918',
  },
  {
    range: 'linkLocal',
    allowedWithPrivate: false,
    reason: 'a link-local address',
    note: '169.254/16 (RFC 3927), fe80::/10 (RFC 4291): no web server lives there, cloud metadata does; kept refused with the opt-in',
  },
  {
    range: 'unspecified',
    allowedWithPrivate: false,
    reason: 'the unspecified address',
    note: '0.0.0.0/8 and :: name no host; Linux connects 0.0.0.0 to this machine',
  },
  {
    range: 'broadcast',
    allowedWithPrivate: false,
    reason: 'the broadcast address',
    note: '255.255.255.255',
  },
  {
    range: 'multicast',
    allowedWithPrivate: false,
    reason: 'a multicast address',
    note: '224/4 (RFC 5771), ff00::/8: not a single host',
  },
  {
    range: 'reserved',
    allowedWithPrivate: false,
    reason: 'a reserved address',
    note: 'documentation, benchmarking and future-use blocks (RFC 5737, 6890, 240/4, 2001:db8::/32)',
  },
  {
    range: 'ipv4Compatible',
    allowedWithPrivate: false,
    reason: 'a deprecated IPv4-compatible IPv6 address',
    note: '::a.b.c.d, deprecated by RFC 4291 §2.5.5.1; no legitimate use, a known filter bypass',
  },
  {
    range: 'notGlobalUnicast',
    allowedWithPrivate: false,
    reason: 'not a public IPv6 address',
    note: 'IANA allocates global unicast only from 2000::/3; everything else is special-purpose',
  },
  {
    range: 'notAnAddress',
    allowedWithPrivate: false,
    reason: 'not an IP address',
    note: 'input that no IP parser accepts',
  },
];

const RULES_BY_RANGE = new Map(ADDRESS_RULES.map((r) => [r.range, r]));

/** Addresses that answer with cloud credentials; see the `cloudMetadata` row. */
const CLOUD_METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/**
 * Parses an IP literal in any spelling a URL accepts (`127.1`, `2130706433`, `0x7f.1`, `0177.0.0.1`,
 * `[::1]`, `::ffff:127.0.0.1`, `fe80::1%eth0`), or returns undefined when `input` is not one. It goes
 * through the WHATWG URL host parser, so "what is an IP address" is decided exactly as `new URL()` decides it.
 */
export function parseIp(input: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  // The zone (`%eth0`) only picks an interface; the verdict is about the address.
  if (s.includes(':')) s = s.replace(/%.*$/, '');
  // IPv6 goes through the URL parser too: ipaddr.js reads `::127.0.0.1` as `::ffff:127.0.0.1`.
  const host = parseHost(s);
  return host.kind === 'ip' ? host.ip : undefined;
}

function normalised(ip: ipaddr.IPv4 | ipaddr.IPv6): string {
  return ip.kind() === 'ipv6' ? (ip as ipaddr.IPv6).toRFC5952String() : ip.toString();
}

function v4FromWords(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

/**
 * The IPv4 address an IPv6 address carries, for the forms that deliver to it: IPv4-mapped
 * (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`, RFC 6145), well-known NAT64
 * (`64:ff9b::a.b.c.d`, RFC 6052) and 6to4 (`2002:AABB:CCDD::`, RFC 3056). ipaddr.js names these
 * ranges but only exposes the mapped form's IPv4, so the others are read from the words here.
 */
function embeddedIPv4(v6: ipaddr.IPv6, range: string): ipaddr.IPv4 | undefined {
  const p = v6.parts;
  if (range === 'ipv4Mapped' || range === 'rfc6145') return v4FromWords(p[6]!, p[7]!);
  if (range === 'rfc6052' && v6.match(NAT64_WELL_KNOWN)) return v4FromWords(p[6]!, p[7]!);
  if (range === '6to4') return v4FromWords(p[1]!, p[2]!);
  return undefined;
}

function verdictFor(
  address: string,
  family: 4 | 6 | undefined,
  range: string,
  opts: AddressPolicyOptions,
): AddressVerdict {
  if (range === 'unicast') return { allowed: true, address, family, range, reason: 'a public address' };
  const rule = RULES_BY_RANGE.get(range);
  const allowed = rule?.allowedWithPrivate === true && opts.allowPrivate === true;
  return { allowed, address, family, range, reason: rule?.reason ?? `a special-purpose address (${range})` };
}

function classifyV4(ip: ipaddr.IPv4, opts: AddressPolicyOptions): AddressVerdict {
  const address = ip.toString();
  const range = CLOUD_METADATA.has(address) ? 'cloudMetadata' : ip.range();
  return verdictFor(address, 4, range, opts);
}

/**
 * Classifies one IP address, in any spelling (see {@link parseIp}): allowed only when it is public
 * unicast, or when `allowPrivate` is set and it is loopback, private, CGNAT or unique-local. IPv6 that
 * carries an IPv4 address is judged by that IPv4 address. Input that is no IP is refused.
 * @example
 * classifyAddress('0x7f.1'); // { allowed: false, address: '127.0.0.1', range: 'loopback', … }
 */
export function classifyAddress(input: string, opts: AddressPolicyOptions = {}): AddressVerdict {
  const ip = parseIp(input);
  if (!ip) return verdictFor('', undefined, 'notAnAddress', opts);
  if (ip.kind() === 'ipv4') return classifyV4(ip as ipaddr.IPv4, opts);

  const v6 = ip as ipaddr.IPv6;
  const address = normalised(v6);
  if (CLOUD_METADATA.has(address)) return verdictFor(address, 6, 'cloudMetadata', opts);
  const range = v6.range();
  const inner = embeddedIPv4(v6, range);
  if (inner) {
    const v4 = classifyV4(inner, opts);
    return { ...v4, address, family: 6, embeddedIPv4: v4.address };
  }
  if (range !== 'unicast') return verdictFor(address, 6, range, opts);
  // ipaddr.js calls ::a.b.c.d and the rest of ::/8 "unicast"; neither is routable on the internet.
  const p = v6.parts;
  if (p.slice(0, 6).every((w) => w === 0)) return verdictFor(address, 6, 'ipv4Compatible', opts);
  if (!v6.match(GLOBAL_UNICAST_V6)) return verdictFor(address, 6, 'notGlobalUnicast', opts);
  return verdictFor(address, 6, 'unicast', opts);
}

/**
 * True when two spellings name the same address. An IPv4 peer may be reported as `::ffff:a.b.c.d`
 * by a dual-stack socket, so IPv4-mapped forms compare equal to their IPv4 address.
 */
export function sameAddress(a: string, b: string): boolean {
  const canonical = (s: string): string | undefined => {
    const ip = parseIp(s);
    if (!ip) return undefined;
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
      return (ip as ipaddr.IPv6).toIPv4Address().toString();
    }
    return ip.toNormalizedString();
  };
  const x = canonical(a);
  return x !== undefined && x === canonical(b);
}

/** A host as a URL holds it: an IP literal, a name, or neither. */
export type ParsedHost =
  | { kind: 'ip'; address: string; family: 4 | 6; ip: ipaddr.IPv4 | ipaddr.IPv6 }
  | { kind: 'name'; name: string }
  | { kind: 'invalid' };

/**
 * Parses a URL host name (no port) the way `new URL()` does: every IPv4 spelling it accepts
 * (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) comes back as the dotted quad, `[::1]` and
 * `[::ffff:127.0.0.1]` as IPv6, anything else as a lower-case ASCII name without trailing dots.
 */
export function parseHost(host: string): ParsedHost {
  const raw = host.trim();
  // Characters that would make the URL below mean something else than "this host".
  if (raw === '' || /[\s/\\?#@]/.test(raw) || /\]:/.test(raw)) return { kind: 'invalid' };
  const bracketed = raw.includes(':') && !raw.startsWith('[') ? `[${raw}]` : raw;
  let hostname: string;
  try {
    const u = new URL(`http://${bracketed}/`);
    if (u.port !== '') return { kind: 'invalid' };
    hostname = u.hostname;
  } catch {
    return { kind: 'invalid' };
  }
  if (hostname.startsWith('[')) {
    const v6 = ipaddr.IPv6.parse(hostname.slice(1, -1));
    return { kind: 'ip', address: normalised(v6), family: 6, ip: v6 };
  }
  // The URL parser has already turned every IPv4 spelling into a dotted quad.
  if (ipaddr.IPv4.isValidFourPartDecimal(hostname)) {
    const v4 = ipaddr.IPv4.parse(hostname);
    return { kind: 'ip', address: v4.toString(), family: 4, ip: v4 };
  }
  const name = hostname.replace(/\.+$/, '');
  return name === '' ? { kind: 'invalid' } : { kind: 'name', name };
}

/** One row of the host-name table. */
export interface HostNameRule {
  /** Matches the name (lower case, no trailing dot). */
  test: (name: string) => boolean;
  /** Completes "<name> is …" in a refusal message. */
  reason: string;
  note: string;
}

function isOrUnder(suffix: string): (name: string) => boolean {
  return (name) => name === suffix || name.endsWith(`.${suffix}`);
}

/**
 * Names refused before any lookup, unless `allowPrivate`. Only a first line: a public-looking name can
 * still resolve to 10.0.0.1, which the address check refuses at call time.
 */
export const HOST_NAME_RULES: readonly HostNameRule[] = [
  {
    test: isOrUnder('localhost'),
    reason: 'a name for this machine',
    note: 'RFC 6761 §6.3: localhost and every name under it resolve to loopback',
  },
  {
    test: isOrUnder('local'),
    reason: 'a local-network (mDNS) name',
    note: 'RFC 6762: .local is resolved by multicast DNS on the LAN',
  },
  {
    test: isOrUnder('internal'),
    reason: 'a private-network name',
    note: 'ICANN reserved .internal for private use (2024); metadata.google.internal lives there',
  },
  {
    test: isOrUnder('home.arpa'),
    reason: 'a home-network name',
    note: 'RFC 8375: names of a home network',
  },
  {
    test: isOrUnder('localdomain'),
    reason: 'a name for this machine',
    note: 'localhost.localdomain is the loopback alias in many /etc/hosts files',
  },
  {
    test: (name) => !name.includes('.'),
    reason: 'a single-label name that only resolves inside a private network',
    note: 'resolved through the search domains of the host (AWS answers instance-data with the metadata endpoint); public hosts have a dot',
  },
];

/** The outcome of classifying one host name. */
export interface HostNameVerdict {
  allowed: boolean;
  name: string;
  /** Why it was refused; "a public name" when allowed. */
  reason: string;
}

/**
 * Classifies a host name (not an IP literal) by name alone: `localhost`, `localhost.`, `*.localhost`,
 * `*.local`, `*.internal`, `*.home.arpa`, `*.localdomain` and single-label names are refused unless
 * `allowPrivate`. The addresses the name resolves to are checked separately, at call time.
 */
export function classifyHostName(name: string, opts: AddressPolicyOptions = {}): HostNameVerdict {
  const n = name.trim().toLowerCase().replace(/\.+$/, '');
  const rule = HOST_NAME_RULES.find((r) => r.test(n));
  if (!rule || opts.allowPrivate === true) return { allowed: true, name: n, reason: 'a public name' };
  return { allowed: false, name: n, reason: rule.reason };
}
