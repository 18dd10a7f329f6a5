import { describe, expect, it } from 'vitest';
import { formatBanner, formatJobChange, formatPacerChange } from '../../../infra/local/banner.js';
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
      formatJobChange({ id: 'abcdefghijk', url: 'http://s/f', status: 'done', at, fileUrl: 'http://l' }),
    ).toBe('14:03:07  abcdefgh  done       http://s/f -> http://l');
    expect(
      formatJobChange({
        id: 'x',
        url: 'u',
        status: 'failed',
        at,
        error: { code: 'remoteFailed', message: 'nope' },
      }),
    ).toContain('failed     u -> remoteFailed: nope');
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
