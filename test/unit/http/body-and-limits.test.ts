import { describe, expect, it } from 'vitest';
import { decodeUtf8Body, readBodyCapped } from '../../../shared/http/body.js';
import { HttpError } from '../../../shared/http/errors.js';
import { MAX_FOLDERS_PER_REQUEST, parseJobBody } from '../../../shared/http/job-input.js';

/** A stream of `count` chunks of `size` bytes that records how many were pulled. */
function chunked(count: number, size: number) {
  const pulled = { n: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled.n >= count) return controller.close();
      pulled.n += 1;
      controller.enqueue(new Uint8Array(size).fill(0x61));
    },
  });
  return { stream, pulled };
}

async function httpError(p: Promise<unknown> | (() => unknown)): Promise<HttpError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return err as HttpError;
  }
  throw new Error('expected an HttpError');
}

describe('readBodyCapped', () => {
  it('reads a body within the limit whole', async () => {
    const { stream } = chunked(4, 1000);
    expect((await readBodyCapped(stream, 4000)).byteLength).toBe(4000);
  });

  it('cuts a chunked body off at the limit with a 413, without reading the rest', async () => {
    const { stream, pulled } = chunked(1000, 1024);
    const err = await httpError(readBodyCapped(stream, 8 * 1024));
    expect(err.status).toBe(413);
    expect(err.code).toBe('bodyTooLarge');
    expect(pulled.n).toBeLessThan(20);
  });

  it('reads no body as empty', async () => {
    expect((await readBodyCapped(null, 10)).byteLength).toBe(0);
  });
});

describe('decodeUtf8Body', () => {
  it('decodes UTF-8, accents and all', () => {
    expect(decodeUtf8Body(new TextEncoder().encode('https://e.co/café.iso'))).toBe('https://e.co/café.iso');
  });

  it('refuses invalid UTF-8 with a 400 instead of making URLs with U+FFFD', async () => {
    const err = await httpError(() => decodeUtf8Body(new Uint8Array([0x68, 0x74, 0xff, 0x70])));
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalidEncoding');
  });
});

describe('request limits', () => {
  const json = (body: unknown) => JSON.stringify(body);

  it('refuses a folder deeper than 10 levels', async () => {
    const folder = Array.from({ length: 11 }, (_, i) => `l${i}`).join('/');
    const err = await httpError(() =>
      parseJobBody('application/json', json({ url: 'https://e.co/a', folder }), 100),
    );
    expect(err).toMatchObject({ status: 400, code: 'invalidFolder' });
    expect(err.message).toMatch(/11 levels; at most 10/);
    const ten = Array.from({ length: 10 }, (_, i) => `l${i}`).join('/');
    expect(parseJobBody('application/json', json({ url: 'https://e.co/a', folder: ten }), 100)).toHaveLength(
      1,
    );
  });

  it(`refuses more than ${MAX_FOLDERS_PER_REQUEST} distinct folders in one request`, async () => {
    const items = Array.from({ length: 21 }, (_, i) => ({ url: `https://e.co/${i}`, folder: `F${i}` }));
    const err = await httpError(() => parseJobBody('application/json', json(items), 100));
    expect(err).toMatchObject({ status: 400, code: 'tooManyFolders' });
    expect(parseJobBody('application/json', json(items.slice(0, 20)), 100)).toHaveLength(20);
  });

  it.each([
    'http://127.0.0.1/cb',
    'http://2130706433/cb',
    'http://0x7f.1/cb',
    'http://[::ffff:127.0.0.1]/cb',
    'http://localhost./cb',
    'http://10.0.0.8/cb',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.1.1/cb',
    'http://[fd00::1]/cb',
  ])('refuses a callbackUrl on a private host: %s', async (callbackUrl) => {
    const err = await httpError(() =>
      parseJobBody('application/json', json({ url: 'https://e.co/a', callbackUrl }), 100),
    );
    expect(err).toMatchObject({ status: 400, code: 'invalidCallbackUrl' });
  });

  it('accepts a private callbackUrl only with RELAY_ALLOW_PRIVATE_URLS, and a public one always', () => {
    const body = json({ url: 'https://e.co/a', callbackUrl: 'http://127.0.0.1:9000/cb' });
    expect(parseJobBody('application/json', body, 100, { allowPrivateUrls: true })[0]?.callbackUrl).toBe(
      'http://127.0.0.1:9000/cb',
    );
    const pub = json({ url: 'https://e.co/a', callbackUrl: 'https://hooks.example.com/cb' });
    expect(parseJobBody('application/json', pub, 100)[0]?.callbackUrl).toBe('https://hooks.example.com/cb');
  });
});
