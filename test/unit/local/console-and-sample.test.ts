import { describe, expect, it } from 'vitest';
import {
  formatBanner,
  formatJobChange,
  formatPacerChange,
  PUBLIC_URL_PLACEHOLDER,
} from '../../../infra/local/banner.js';
import {
  bindWarning,
  isLoopbackHost,
  parseBindHost,
  resolveBindHost,
  urlHostFor,
} from '../../../infra/local/bind.js';
import { SAMPLE_TEXT, sampleUrl, serveSample } from '../../../infra/local/sample.js';

describe('start banner', () => {
  const banner = formatBanner({
    baseUrl: 'http://127.0.0.1:3000',
    token: 'fr_tok',
    tokenGenerated: true,
    dataDir: '/tmp/x',
    sampleUrl: sampleUrl('http://127.0.0.1:3000'),
    pollIntervalMs: 30_000,
    sandbox: { baseUrl: 'http://127.0.0.1:3001/v1', premiumKey: 'sbkey' },
  });

  it('prints a ready-to-paste curl line posting the sample URL with the token', () => {
    expect(banner).toContain(
      `curl -sS -X POST http://127.0.0.1:3000/jobs -H 'Authorization: Bearer fr_tok' -H 'Content-Type: application/json' -d '{"url":"http://127.0.0.1:3000/sample/hello.txt"}'`,
    );
    expect(banner).toContain(`curl -sS http://127.0.0.1:3000/jobs -H 'Authorization: Bearer fr_tok'`);
  });

  it('names the sandbox and its key when sandboxed', () => {
    expect(banner).toContain('sandbox at http://127.0.0.1:3001/v1');
    expect(banner).toContain('key sbkey');
  });

  it('never prints a real 1fichier key', () => {
    const real = formatBanner({
      baseUrl: 'http://127.0.0.1:3000',
      token: 't',
      tokenGenerated: false,
      dataDir: '/tmp/x',
      sampleUrl: 'http://127.0.0.1:3000/sample/hello.txt',
      pollIntervalMs: 30_000,
      fichierApiUrl: 'https://api.1fichier.com/v1',
    });
    expect(real).toContain('https://api.1fichier.com/v1 with the key from ONEFICHIER_API_KEY');
  });
});

describe('job change line', () => {
  it('shows the file link of a done job and the reason of a failed one', () => {
    const at = Date.UTC(2026, 10, 27, 14, 3, 7);
    expect(
      formatJobChange({ id: 'abcdefghijk', url: 'http://s/f', status: 'done', at, fileUrl: 'http://l/x' }),
    ).toBe('14:03:07  abcdefgh  done       http://s/f -> http://l/x');
    expect(
      formatJobChange({
        id: 'x',
        url: 'http://s/u',
        status: 'failed',
        at,
        error: { code: 'remoteFailed', message: 'nope' },
      }),
    ).toContain('failed     http://s/u -> remoteFailed: nope');
  });
});

describe('console lines and query strings', () => {
  it('never print the query string of a job URL or a file link', () => {
    const at = Date.UTC(2026, 10, 27, 14, 3, 7);
    const line = formatJobChange({
      id: 'abcdefghijk',
      url: 'https://cdn.example/f.zip?X-Amz-Signature=s3cr3tsig&token=t0ken#frag',
      status: 'done',
      at,
      fileUrl: 'https://1fichier.com/?abcdef123456&af=42',
    });
    expect(line).not.toMatch(/s3cr3tsig|t0ken|frag|abcdef123456|af=42/);
    expect(line).toContain('https://cdn.example/f.zip?X-Amz-Signature=[redacted]&token=[redacted]');
    const failed = formatJobChange({
      id: 'abcdefghijk',
      url: 'https://cdn.example/g.zip?sig=abc123secret',
      status: 'failed',
      at,
      error: {
        code: 'remoteFailed',
        message: 'Could not fetch https://cdn.example/g.zip?sig=abc123secret (404)',
      },
    });
    expect(failed).not.toContain('abc123secret');
    expect(failed).toContain('Could not fetch https://cdn.example/g.zip?sig=[redacted] (404)');
  });
});

describe('start banner with a real key', () => {
  const banner = formatBanner({
    baseUrl: 'http://127.0.0.1:3000',
    token: 'fr_tok',
    tokenGenerated: false,
    dataDir: '/tmp/x',
    sampleUrl: sampleUrl('http://127.0.0.1:3000'),
    pollIntervalMs: 30_000,
    fichierApiUrl: 'https://api.1fichier.com/v1',
  });

  it('does not offer the loopback sample URL, which 1fichier cannot fetch, but a placeholder public URL', () => {
    expect(banner).not.toContain('/sample/hello.txt');
    expect(banner).toContain(
      `curl -sS -X POST http://127.0.0.1:3000/jobs -H 'Authorization: Bearer fr_tok' -H 'Content-Type: application/json' -d '{"url":"${PUBLIC_URL_PLACEHOLDER}"}'`,
    );
    expect(banner).toMatch(/public file/);
  });
});

describe('bind address', () => {
  it('accepts IP addresses and localhost, refuses names, and names the variable', () => {
    expect(parseBindHost(undefined)).toBe('127.0.0.1');
    expect(parseBindHost(' 0.0.0.0 ')).toBe('0.0.0.0');
    expect(parseBindHost('::')).toBe('::');
    expect(parseBindHost('localhost')).toBe('localhost');
    expect(parseBindHost('my-laptop')).toBe('my-laptop');
    expect(() => parseBindHost('http://0.0.0.0:3000')).toThrow(/HOST must be an IP address/);
    expect(() => parseBindHost('0.0.0.0:3000')).toThrow(/HOST must be an IP address/);
  });

  it('resolves a name to the address to listen on', async () => {
    expect(await resolveBindHost('0.0.0.0')).toBe('0.0.0.0');
    expect(isLoopbackHost(await resolveBindHost('localhost'))).toBe(true);
  });

  it('tells loopback from exposed binds', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', 'localhost']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '192.168.1.20', '10.0.0.5', '2001:db8::1']) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
    expect(urlHostFor('0.0.0.0')).toBe('127.0.0.1');
    expect(urlHostFor('192.168.1.20')).toBe('192.168.1.20');
    expect(urlHostFor('fd00::1')).toBe('[fd00::1]');
  });

  it('warns only beyond loopback, naming the risks, and the banner prints the warning first', () => {
    expect(bindWarning('127.0.0.1', 3000)).toBeUndefined();
    const warning = bindWarning('0.0.0.0', 3000) ?? '';
    expect(warning).toMatch(/every network interface/);
    expect(warning).toMatch(/plain HTTP/);
    expect(warning).toMatch(/token/);
    expect(warning).toMatch(/\/hooks\/\*/);
    expect(warning).toMatch(/sandbox stays on 127\.0\.0\.1/);
    const banner = formatBanner({
      baseUrl: 'http://127.0.0.1:3000',
      token: 't',
      tokenGenerated: false,
      dataDir: '/tmp/x',
      sampleUrl: sampleUrl('http://127.0.0.1:3000'),
      pollIntervalMs: 30_000,
      bindWarning: warning,
    });
    expect(banner.indexOf('WARNING')).toBeLessThan(banner.indexOf('fichier-relay is running'));
  });
});

describe('sample file', () => {
  it('serves hello.txt and leaves other paths to the API', async () => {
    const res = serveSample(new Request('http://127.0.0.1:3000/sample/hello.txt'));
    expect(res?.status).toBe(200);
    expect(await res?.text()).toBe(SAMPLE_TEXT);
    expect(serveSample(new Request('http://127.0.0.1:3000/jobs'))).toBeUndefined();
    expect(serveSample(new Request('http://127.0.0.1:3000/sample/other'))).toBeUndefined();
  });
});

describe('pacer change line', () => {
  const base = { keyId: 'k', lastCallAt: 0, pausedUntil: 0, floodCount: 0, circuitOpen: false };
  it('tells when the circuit opens and when a flood pause starts, once', () => {
    const open = { ...base, circuitOpen: true, circuitReason: 'Not authenticated #247' };
    expect(formatPacerChange(base, open, 0)).toMatch(
      /refused the key \(Not authenticated #247\).*ONEFICHIER_API_KEY/,
    );
    expect(formatPacerChange(open, open, 0)).toBeUndefined();
    const paused = { ...base, pausedUntil: 61_000, floodCount: 1 };
    expect(formatPacerChange(base, paused, 1_000)).toMatch(/paused for 60 s/);
    expect(formatPacerChange(paused, paused, 2_000)).toBeUndefined();
  });
});
