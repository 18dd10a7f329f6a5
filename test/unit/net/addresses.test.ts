import { describe, expect, it } from 'vitest';
import {
  ADDRESS_RULES,
  classifyAddress,
  classifyHostName,
  parseHost,
  parseIp,
  sameAddress,
} from '../../../shared/net/addresses.js';
import { checkOutboundUrl } from '../../../shared/net/url-guard.js';

/** [host as written in a URL, normalised address, range] — every one refused without the opt-in. */
const REFUSED_HOSTS: readonly [string, string, string][] = [
  ['127.0.0.1', '127.0.0.1', 'loopback'],
  ['127.1', '127.0.0.1', 'loopback'],
  ['2130706433', '127.0.0.1', 'loopback'],
  ['0x7f.1', '127.0.0.1', 'loopback'],
  ['0177.0.0.1', '127.0.0.1', 'loopback'],
  ['0x7f000001', '127.0.0.1', 'loopback'],
  ['127.0.0.1.', '127.0.0.1', 'loopback'],
  ['10.0.0.1', '10.0.0.1', 'private'],
  ['172.16.0.1', '172.16.0.1', 'private'],
  ['172.31.255.254', '172.31.255.254', 'private'],
  ['192.168.1.1', '192.168.1.1', 'private'],
  ['169.254.169.254', '169.254.169.254', 'cloudMetadata'],
  ['169.254.170.2', '169.254.170.2', 'linkLocal'],
  ['100.64.0.1', '100.64.0.1', 'carrierGradeNat'],
  ['100.100.100.200', '100.100.100.200', 'cloudMetadata'],
  ['0.0.0.0', '0.0.0.0', 'unspecified'],
  ['0', '0.0.0.0', 'unspecified'],
  ['255.255.255.255', '255.255.255.255', 'broadcast'],
  ['224.0.0.1', '224.0.0.1', 'multicast'],
  ['192.0.2.1', '192.0.2.1', 'reserved'],
  ['240.0.0.1', '240.0.0.1', 'reserved'],
  ['[::1]', '::1', 'loopback'],
  ['[::]', '::', 'unspecified'],
  ['[fe80::1]', 'fe80::1', 'linkLocal'],
  ['[fc00::1]', 'fc00::1', 'uniqueLocal'],
  ['[fd12::1]', 'fd12::1', 'uniqueLocal'],
  ['[fd00:ec2::254]', 'fd00:ec2::254', 'cloudMetadata'],
  ['[ff02::1]', 'ff02::1', 'multicast'],
  ['[::ffff:127.0.0.1]', '::ffff:7f00:1', 'loopback'],
  ['[::ffff:7f00:1]', '::ffff:7f00:1', 'loopback'],
  ['[::ffff:169.254.169.254]', '::ffff:a9fe:a9fe', 'cloudMetadata'],
  ['[::ffff:0:10.0.0.1]', '::ffff:0:a00:1', 'private'],
  ['[64:ff9b::10.0.0.1]', '64:ff9b::a00:1', 'private'],
  ['[2002:7f00:1::]', '2002:7f00:1::', 'loopback'],
  ['[::127.0.0.1]', '::7f00:1', 'ipv4Compatible'],
  ['[2001:db8::1]', '2001:db8::1', 'reserved'],
  ['[2001::1]', '2001::1', 'teredo'],
  ['[100::1]', '100::1', 'discard'],
  ['[::2:3:4]', '::2:3:4', 'notGlobalUnicast'],
  ['[::2:3]', '::2:3', 'ipv4Compatible'],
  ['[1234::1]', '1234::1', 'notGlobalUnicast'],
];

const PUBLIC_HOSTS: readonly [string, string][] = [
  ['93.184.216.34', '93.184.216.34'],
  ['1.1.1.1', '1.1.1.1'],
  ['[2606:4700::1111]', '2606:4700::1111'],
  ['[::ffff:93.184.216.34]', '::ffff:5db8:d822'],
  ['[64:ff9b::93.184.216.34]', '64:ff9b::5db8:d822'],
  ['[2002:5db8:d822::1]', '2002:5db8:d822::1'],
];

describe('parseHost follows the WHATWG URL host parser', () => {
  it.each([
    ['2130706433', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['127.0.0.1%2e', '127.0.0.1'],
  ])('new URL() turns %s into the dotted quad %s, and parseHost agrees', (spelling, quad) => {
    expect(new URL(`http://${spelling}/`).hostname).toBe(quad);
    expect(parseHost(spelling)).toMatchObject({ kind: 'ip', address: quad, family: 4 });
  });

  it.each([
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['[::1]', '::1'],
    ['::1', '::1'],
    ['[0:0:0:0:0:0:0:1]', '::1'],
  ])('reads the IPv6 literal %s as %s', (spelling, address) => {
    expect(parseHost(spelling)).toMatchObject({ kind: 'ip', address, family: 6 });
  });

  it.each([
    ['Example.COM', 'example.com'],
    ['localhost.', 'localhost'],
    ['ＬＯＣＡＬＨＯＳＴ', 'localhost'],
    ['bücher.example', 'xn--bcher-kva.example'],
  ])('reads the name %s as %s', (spelling, name) => {
    expect(parseHost(spelling)).toEqual({ kind: 'name', name });
  });

  it.each(['', '1.2.3.4.5', 'a/b', 'user@host', 'host:80', '[::1]:80', 'exa mple.com', '[fe80::1%25eth0]'])(
    'refuses %j as a host',
    (spelling) => {
      expect(parseHost(spelling)).toEqual({ kind: 'invalid' });
    },
  );
});

describe('classifyAddress', () => {
  it.each(REFUSED_HOSTS)('refuses %s (%s, %s)', (host, address, range) => {
    const verdict = classifyAddress(host);
    expect(verdict).toMatchObject({ allowed: false, address, range });
    expect(verdict.reason).not.toBe('');
  });

  it.each(PUBLIC_HOSTS)('allows the public address %s', (host, address) => {
    expect(classifyAddress(host)).toMatchObject({ allowed: true, address });
  });

  it('judges IPv6 that carries IPv4 by the IPv4 it carries', () => {
    expect(classifyAddress('::ffff:10.0.0.1')).toMatchObject({
      allowed: false,
      range: 'private',
      embeddedIPv4: '10.0.0.1',
      family: 6,
    });
    expect(classifyAddress('64:ff9b::1.1.1.1')).toMatchObject({ allowed: true, embeddedIPv4: '1.1.1.1' });
  });

  it('refuses the local-use NAT64 prefix, where the IPv4 position is network-specific', () => {
    expect(classifyAddress('64:ff9b:1::1')).toMatchObject({ allowed: false, range: 'rfc6052' });
  });

  it('ignores an IPv6 zone id', () => {
    expect(classifyAddress('fe80::1%eth0')).toMatchObject({ allowed: false, address: 'fe80::1' });
  });

  it('refuses input that is not an address', () => {
    expect(classifyAddress('example.com')).toMatchObject({ allowed: false, range: 'notAnAddress' });
    expect(classifyAddress('')).toMatchObject({ allowed: false, range: 'notAnAddress' });
  });

  it('lifts loopback, private, CGNAT and unique-local refusals with allowPrivate', () => {
    for (const host of [
      '127.0.0.1',
      '::1',
      '10.0.0.1',
      '192.168.1.1',
      '100.64.0.1',
      'fd12::1',
      '::ffff:127.0.0.1',
    ]) {
      expect(classifyAddress(host, { allowPrivate: true }).allowed, host).toBe(true);
    }
  });

  it('keeps metadata, link-local, unspecified, broadcast, multicast and reserved refused with allowPrivate', () => {
    for (const host of [
      '169.254.169.254',
      'fd00:ec2::254',
      '100.100.100.200',
      '::ffff:169.254.169.254',
      '169.254.1.1',
      'fe80::1',
      '0.0.0.0',
      '::',
      '255.255.255.255',
      '224.0.0.1',
      '192.0.2.1',
      '2001::1',
    ]) {
      expect(classifyAddress(host, { allowPrivate: true }).allowed, host).toBe(false);
    }
  });

  it('has one rule per range name', () => {
    const names = ADDRESS_RULES.map((r) => r.range);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of ADDRESS_RULES) expect(rule.note.length, rule.range).toBeGreaterThan(0);
  });
});

describe('classifyHostName', () => {
  it.each([
    'localhost',
    'localhost.',
    'LOCALHOST',
    'foo.localhost',
    'printer.local',
    'metadata.google.internal',
    'nas.home.arpa',
    'localhost.localdomain',
    'intranet',
    'instance-data',
  ])('refuses %s by name', (name) => {
    expect(classifyHostName(name)).toMatchObject({ allowed: false });
  });

  it.each(['example.com', 'feeds.example.org', 'localhost.example.com', 'api.telegram.org'])(
    'allows the public name %s',
    (name) => {
      expect(classifyHostName(name)).toMatchObject({ allowed: true });
    },
  );

  it('lets every name through with allowPrivate (the addresses are still checked at call time)', () => {
    expect(classifyHostName('localhost', { allowPrivate: true }).allowed).toBe(true);
    expect(classifyHostName('intranet', { allowPrivate: true }).allowed).toBe(true);
  });
});

describe('the table through checkOutboundUrl', () => {
  it.each(REFUSED_HOSTS)('refuses http://%s/ as blockedAddress', (host, address) => {
    const check = checkOutboundUrl(`http://${host}/`);
    expect(check).toMatchObject({ ok: false, code: 'blockedAddress' });
    if (!check.ok) expect(check.message).toContain(address);
  });

  it.each(['localhost', 'localhost.', 'foo.localhost', 'ＬＯＣＡＬＨＯＳＴ', 'printer.local', 'x.internal'])(
    'refuses http://%s/ as blockedName',
    (host) => {
      expect(checkOutboundUrl(`http://${host}/`)).toMatchObject({ ok: false, code: 'blockedName' });
    },
  );

  it.each([...PUBLIC_HOSTS.map(([h]) => h), 'example.com'])('accepts http://%s/', (host) => {
    expect(checkOutboundUrl(`http://${host}/`)).toMatchObject({ ok: true });
  });
});

describe('parseIp and sameAddress', () => {
  it('parses bracketed and bare IPv6 and any IPv4 spelling, and nothing else', () => {
    expect(parseIp('[::1]')?.toString()).toBe('::1');
    expect(parseIp('0x7f.1')?.toString()).toBe('127.0.0.1');
    expect(parseIp('example.com')).toBeUndefined();
    expect(parseIp('::zz')).toBeUndefined();
  });

  it('compares spellings, treating IPv4-mapped as its IPv4', () => {
    expect(sameAddress('127.0.0.1', '::ffff:127.0.0.1')).toBe(true);
    expect(sameAddress('::1', '0:0:0:0:0:0:0:1')).toBe(true);
    expect(sameAddress('127.0.0.1', '127.0.0.2')).toBe(false);
    expect(sameAddress('', '')).toBe(false);
  });
});
