/**
 * Where the local API listens (`HOST`, default 127.0.0.1) and what that exposes. Binding to anything but
 * loopback makes the API reachable from the network, so the start prints the risks; the sandbox stays on
 * loopback whatever `HOST` says, and then refuses to fetch private targets (infra/sandbox/fetcher.ts).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseIp } from '../../shared/net/addresses.js';

/** The default bind address: this machine only. */
export const DEFAULT_HOST = '127.0.0.1';

/** `HOST` is not an IP address Node can bind. */
export class BindAddressError extends Error {
  override name = 'BindAddressError';
}

/**
 * Validates a bind address: an IPv4 or IPv6 address (`0.0.0.0` and `::` mean every interface), or a host
 * name of this machine (some environments export `HOST=<hostname>`), resolved by {@link resolveBindHost}.
 * Throws {@link BindAddressError} naming the variable.
 */
export function parseBindHost(value: string | undefined, variable = 'HOST'): string {
  const host = value?.trim() || DEFAULT_HOST;
  if (
    isIP(host) !== 0 ||
    /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(host)
  )
    return host;
  throw new BindAddressError(
    `${variable} must be an IP address to listen on (127.0.0.1, 0.0.0.0, ::, or one of this machine's addresses), got ${JSON.stringify(host)}`,
  );
}

/** The address to listen on: `host` itself when it is an IP address, else the address the name resolves to. */
export async function resolveBindHost(host: string, variable = 'HOST'): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    return (await lookup(host)).address;
  } catch (cause) {
    throw new BindAddressError(`${variable}=${host} does not resolve to an address of this machine`, {
      cause,
    });
  }
}

/** True when only this machine can reach the address (127.0.0.0/8, ::1, `localhost`). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const ip = parseIp(host);
  if (!ip) return false;
  if (ip.kind() === 'ipv6') {
    const v6 = ip as import('ipaddr.js').IPv6;
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range() === 'loopback';
  }
  return ip.range() === 'loopback';
}

/**
 * The host to put in local URLs (the banner, the sample file): a wildcard bind is reached through
 * 127.0.0.1; a specific address through itself (IPv6 in brackets).
 */
export function urlHostFor(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** The warning printed when the API listens beyond loopback, or `undefined` on loopback. */
export function bindWarning(host: string, port: number): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  const where = host === '0.0.0.0' || host === '::' ? 'every network interface' : host;
  return [
    `WARNING: the API listens on ${where} (HOST=${host}), port ${port}: anyone who can reach this machine can call it.`,
    '  - it speaks plain HTTP: tokens (headers and /hooks/<token> paths) cross the network in clear; put a',
    '    TLS tunnel or reverse proxy in front (docs/local.md, "Reach it from IFTTT or Zapier") and expose only /hooks/*;',
    '  - whoever holds a token can create jobs and read its jobs and links; revoke leaked tokens;',
    '  - every job it creates is a remote upload on your 1fichier key;',
    '  - the 1fichier sandbox stays on 127.0.0.1 and now refuses private and loopback source URLs',
    '    (except the sample file), so a caller cannot make it fetch from your network.',
    'Set HOST=127.0.0.1 (the default) to keep it on this machine.',
  ].join('\n');
}
