import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../shared/http/errors.js';
import { MAX_BODY_BYTES, MAX_URLS_PER_REQUEST, parseJobBody } from '../../../shared/http/job-input.js';

const parse = (type: string | undefined, text: string) => parseJobBody(type, text, Buffer.byteLength(text));
const failure = (fn: () => unknown): HttpError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error('expected an HttpError');
};

describe('parseJobBody', () => {
  it('reads a JSON object with url, folder and callbackUrl', () => {
    expect(
      parse(
        'application/json',
        '{"url":"HTTPS://Files.Example:443/a.iso?sig=AbC&x=1#frag","folder":"/Movies//2026/","callbackUrl":"https://hook.example/cb"}',
      ),
    ).toEqual([
      {
        url: 'https://files.example/a.iso?sig=AbC&x=1',
        folder: 'Movies/2026',
        callbackUrl: 'https://hook.example/cb',
      },
    ]);
  });

  it('reads {urls:[...]} and arrays of objects or strings', () => {
    expect(
      parse(
        'application/json; charset=utf-8',
        '{"urls":["https://a.example/1","https://a.example/2"],"folder":"F"}',
      ),
    ).toEqual([
      { url: 'https://a.example/1', folder: 'F' },
      { url: 'https://a.example/2', folder: 'F' },
    ]);
    expect(parse('application/json', '[{"url":"https://a.example/1"},"https://a.example/2"]')).toEqual([
      { url: 'https://a.example/1', folder: '' },
      { url: 'https://a.example/2', folder: '' },
    ]);
  });

  it('reads form bodies with repeated url= and folder=', () => {
    expect(
      parse(
        'application/x-www-form-urlencoded',
        'url=https%3A%2F%2Fa.example%2F1%3Fq%3D1&url=https%3A%2F%2Fa.example%2F2&folder=IFTTT',
      ),
    ).toEqual([
      { url: 'https://a.example/1?q=1', folder: 'IFTTT' },
      { url: 'https://a.example/2', folder: 'IFTTT' },
    ]);
  });

  it('reads text/plain one URL per line, and guesses JSON or text without a content type', () => {
    expect(parse('text/plain', 'https://a.example/1\r\n\r\n  https://a.example/2  \n')).toEqual([
      { url: 'https://a.example/1', folder: '' },
      { url: 'https://a.example/2', folder: '' },
    ]);
    expect(parse(undefined, '{"url":"https://a.example/3"}')).toEqual([
      { url: 'https://a.example/3', folder: '' },
    ]);
    expect(parse(undefined, 'https://a.example/4')).toEqual([{ url: 'https://a.example/4', folder: '' }]);
  });

  it('normalises IDN hosts to punycode and keeps query strings byte for byte', () => {
    const [job] = parse('text/plain', 'http://Bücher.Example:80/Datei.zip?X-Amz-Signature=aB%2Fc&b=2&a=1');
    expect(job?.url).toBe('http://xn--bcher-kva.example/Datei.zip?X-Amz-Signature=aB%2Fc&b=2&a=1');
  });

  it('refuses bad URLs with 400 naming the problem', () => {
    expect(failure(() => parse('text/plain', 'ftp://a.example/x'))).toMatchObject({
      status: 400,
      code: 'invalidUrl',
    });
    expect(failure(() => parse('text/plain', 'https://user:pw@a.example/x')).message).toMatch(/credentials/);
    expect(failure(() => parse('text/plain', 'not a url')).code).toBe('invalidUrl');
    expect(failure(() => parse('text/plain', `https://a.example/${'x'.repeat(2100)}`)).message).toMatch(
      /longer/,
    );
    expect(failure(() => parse('application/json', '{"folder":"x"}')).code).toBe('invalidBody');
    expect(failure(() => parse('application/json', '{"url":')).code).toBe('invalidJson');
    expect(failure(() => parse('application/json', '{"url":42}')).code).toBe('invalidBody');
    expect(failure(() => parse('text/plain', '   ')).code).toBe('noUrl');
  });

  it('refuses folder paths with "..", control characters or overlong segments', () => {
    const withFolder = (folder: string) => JSON.stringify({ url: 'https://a.example/x', folder });
    expect(failure(() => parse('application/json', withFolder('a/../b'))).code).toBe('invalidFolder');
    expect(failure(() => parse('application/json', withFolder('a\r\nb'))).code).toBe('invalidFolder');
    expect(failure(() => parse('application/json', withFolder(`a/${'x'.repeat(251)}`))).code).toBe(
      'invalidFolder',
    );
    expect(parse('application/json', withFolder(`a/${'x'.repeat(250)}`))[0]?.folder).toHaveLength(252);
  });

  it('refuses too many URLs and too large bodies with 413, and unknown media types with 415', () => {
    const many = Array.from({ length: MAX_URLS_PER_REQUEST + 1 }, (_, i) => `https://a.example/${i}`).join(
      '\n',
    );
    expect(failure(() => parse('text/plain', many))).toMatchObject({ status: 413, code: 'tooManyUrls' });
    expect(
      failure(() => parseJobBody('text/plain', 'https://a.example/1', MAX_BODY_BYTES + 1)),
    ).toMatchObject({
      status: 413,
      code: 'bodyTooLarge',
    });
    expect(failure(() => parse('application/xml', '<url/>'))).toMatchObject({ status: 415 });
  });
});
