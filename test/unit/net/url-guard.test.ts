import { describe, expect, it } from 'vitest';
import { BlockedAddressError, BlockedUrlError } from '../../../shared/net/errors.js';
import { assertOutboundUrl, BLOCKED_PORTS, checkOutboundUrl } from '../../../shared/net/url-guard.js';

describe('checkOutboundUrl', () => {
  it('accepts an http or https URL with a public host and returns it parsed', () => {
    const check = checkOutboundUrl('https://Feeds.Example.com/rss.xml?x=1');
    expect(check).toMatchObject({ ok: true, port: 443, host: { kind: 'name', name: 'feeds.example.com' } });
    if (check.ok) expect(check.url.href).toBe('https://feeds.example.com/rss.xml?x=1');
  });

  it.each(['ftp://example.com/a', 'file:///etc/passwd', 'gopher://example.com/', 'javascript:alert(1)'])(
    'refuses the scheme of %s',
    (url) => {
      expect(checkOutboundUrl(url)).toMatchObject({ ok: false, code: 'unsupportedScheme' });
    },
  );

  it.each(['', 'example.com/rss', '/relative', 'http://', 'http://[::1'])('refuses %j as invalid', (url) => {
    expect(checkOutboundUrl(url)).toMatchObject({ ok: false, code: 'invalidUrl' });
  });

  it.each(['https://alice:pw@example.com/', 'https://alice@example.com/', 'https://:pw@example.com/'])(
    'refuses credentials in %s',
    (url) => {
      expect(checkOutboundUrl(url)).toMatchObject({ ok: false, code: 'credentialsInUrl' });
    },
  );

  it.each([25, 22, 6667, 10080, 0])('refuses the non-web port %i', (port) => {
    expect(checkOutboundUrl(`http://example.com:${port}/`)).toMatchObject({ ok: false, code: 'blockedPort' });
  });

  it.each([80, 443, 8080, 8443, 3000])('accepts the port %i', (port) => {
    expect(checkOutboundUrl(`http://example.com:${port}/`)).toMatchObject({ ok: true, port });
  });

  it('copies the Fetch Standard bad-port list', () => {
    for (const port of [1, 25, 110, 143, 587, 993, 995, 4190, 6679, 6697])
      expect(BLOCKED_PORTS.has(port)).toBe(true);
    expect(BLOCKED_PORTS.has(80)).toBe(false);
    expect(BLOCKED_PORTS.has(443)).toBe(false);
  });

  it('lets loopback and local names through with allowPrivate, but never the metadata address', () => {
    expect(checkOutboundUrl('http://127.0.0.1:3000/cb', { allowPrivate: true })).toMatchObject({ ok: true });
    expect(checkOutboundUrl('http://localhost:3000/cb', { allowPrivate: true })).toMatchObject({ ok: true });
    expect(
      checkOutboundUrl('http://169.254.169.254/latest/meta-data/', { allowPrivate: true }),
    ).toMatchObject({
      ok: false,
      code: 'blockedAddress',
    });
  });

  it('explains a refusal in words, naming the host but not the rest of the URL', () => {
    const check = checkOutboundUrl('http://10.0.0.1/hook?token=SECRET');
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.message).toBe('10.0.0.1 is a private network address; only public addresses may be reached');
    const named = checkOutboundUrl('http://printer.local/x?token=SECRET');
    if (named.ok) throw new Error('expected a refusal');
    expect(named.message).toBe(
      'printer.local is a local-network (mDNS) name; only public hosts may be reached',
    );
    const embedded = checkOutboundUrl('http://[::ffff:127.0.0.1]/');
    if (embedded.ok) throw new Error('expected a refusal');
    expect(embedded.message).toContain('(it carries 127.0.0.1)');
    for (const c of [check, named]) expect(c.message).not.toContain('SECRET');
  });

  it('uses an injected address policy for IP literals', () => {
    const allowAll = (address: string) => ({
      allowed: true,
      address,
      family: 4 as const,
      range: 'unicast',
      reason: '',
    });
    expect(checkOutboundUrl('http://127.0.0.1/', { addressPolicy: allowAll })).toMatchObject({ ok: true });
  });
});

describe('assertOutboundUrl', () => {
  it('throws a BlockedAddressError for a refused IP literal, naming the operation and the redacted URL', () => {
    let caught: unknown;
    try {
      assertOutboundUrl('http://0x7f.1:8080/bot123:SECRET/send?key=SECRET', 'telegram delivery');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BlockedAddressError);
    const err = caught as BlockedAddressError;
    expect(err).toMatchObject({ address: '127.0.0.1', range: 'loopback', stage: 'url', retryable: false });
    expect(err.message).toBe(
      'telegram delivery http://127.0.0.1:8080/bot[redacted]/send?key=[redacted] refused: 127.0.0.1 is a loopback address (this machine); only public addresses may be reached',
    );
    expect(err.stack).not.toContain('SECRET');
  });

  it('throws a BlockedUrlError with the code for other refusals, without the password', () => {
    expect(() => assertOutboundUrl('https://alice:SECRET@example.com/', 'feed fetch')).toThrow(
      BlockedUrlError,
    );
    try {
      assertOutboundUrl('https://alice:SECRET@example.com/', 'feed fetch');
    } catch (err) {
      expect(err).toMatchObject({ code: 'credentialsInUrl', host: 'example.com' });
      expect(String(err)).not.toContain('SECRET');
      expect(String(err)).not.toContain('alice');
    }
  });

  it('does not echo a URL it cannot parse', () => {
    expect(() => assertOutboundUrl('nonsense SECRET', 'feed fetch')).toThrow(
      'feed fetch [invalid URL] refused: not a valid absolute URL',
    );
  });
});
