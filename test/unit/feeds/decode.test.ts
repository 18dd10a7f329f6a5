import { describe, expect, it } from 'vitest';
import {
  charsetFromContentType,
  decodeFeedBytes,
  xmlDeclaredEncoding,
} from '../../../shared/feeds/decode.js';
import { fixtureBytes } from './fixtures.js';

const ascii = (s: string) => Buffer.from(s, 'latin1');

describe('decodeFeedBytes', () => {
  it('reads a windows-1252 feed by its XML declaration, including 0x80 as € and 0x93/0x94 as curly quotes', () => {
    const decoded = decodeFeedBytes(fixtureBytes('windows-1252.xml'));

    expect(decoded).toMatchObject({ encoding: 'windows-1252', source: 'xml' });
    expect(decoded.text).toContain('<title>Café des fichiers</title>');
    expect(decoded.text).toContain('“Présentation” – 5 €');
  });

  it('reads an ISO-8859-1 feed by its XML declaration', () => {
    const decoded = decodeFeedBytes(fixtureBytes('iso-8859-1.xml'));

    // WHATWG Encoding: the iso-8859-1 label is windows-1252 (identical outside 0x80–0x9F).
    expect(decoded).toMatchObject({ encoding: 'windows-1252', source: 'xml' });
    expect(decoded.text).toContain('Crème brûlée');
  });

  it('lets the HTTP charset win over a disagreeing XML declaration', () => {
    const bytes = Buffer.concat([
      ascii('<?xml version="1.0" encoding="windows-1252"?><rss><channel><title>'),
      Buffer.from('Zürich', 'utf8'),
      ascii('</title></channel></rss>'),
    ]);

    const decoded = decodeFeedBytes(bytes, 'application/rss+xml; charset="UTF-8"');

    expect(decoded).toMatchObject({ encoding: 'utf-8', source: 'http' });
    expect(decoded.text).toContain('Zürich');
  });

  it('lets a BOM win over the HTTP charset, and strips it', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<rss>é</rss>', 'utf8')]);

    const decoded = decodeFeedBytes(bytes, 'text/xml; charset=iso-8859-1');

    expect(decoded).toEqual({ text: '<rss>é</rss>', encoding: 'utf-8', source: 'bom' });
  });

  it('reads UTF-16LE with a BOM', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<rss>€</rss>', 'utf16le')]);

    expect(decodeFeedBytes(bytes)).toEqual({ text: '<rss>€</rss>', encoding: 'utf-16le', source: 'bom' });
  });

  it('skips an unknown HTTP charset label and uses the XML declaration', () => {
    const bytes = Buffer.concat([
      ascii('<?xml version="1.0" encoding="ISO-8859-1"?><a>'),
      Buffer.from([0xe9]),
      ascii('</a>'),
    ]);

    const decoded = decodeFeedBytes(bytes, 'application/xml; charset=x-no-such-charset');

    expect(decoded.source).toBe('xml');
    expect(decoded.text).toContain('<a>é</a>');
  });

  it('defaults to UTF-8 when nothing declares an encoding', () => {
    expect(decodeFeedBytes(Buffer.from('{"title":"naïve"}', 'utf8'))).toEqual({
      text: '{"title":"naïve"}',
      encoding: 'utf-8',
      source: 'default',
    });
  });

  it('falls back to windows-1252 when nothing declares an encoding and the bytes are not UTF-8', () => {
    const decoded = decodeFeedBytes(
      Buffer.concat([ascii('<rss><title>caf'), Buffer.from([0xe9, 0x80]), ascii('</title></rss>')]),
    );

    expect(decoded).toMatchObject({ encoding: 'windows-1252', source: 'fallback' });
    expect(decoded.text).toContain('café€');
  });

  it('decodes the empty document to the empty string', () => {
    expect(decodeFeedBytes(fixtureBytes('empty.xml')).text).toBe('');
  });
});

describe('charsetFromContentType', () => {
  it('reads quoted, unquoted and mixed-case parameters', () => {
    expect(charsetFromContentType('application/rss+xml; charset=ISO-8859-1')).toBe('ISO-8859-1');
    expect(charsetFromContentType('text/xml;Charset="utf-8"; foo=bar')).toBe('utf-8');
    expect(charsetFromContentType('application/atom+xml')).toBeUndefined();
    expect(charsetFromContentType(null)).toBeUndefined();
  });
});

describe('xmlDeclaredEncoding', () => {
  it('reads the encoding pseudo-attribute in either quote style', () => {
    expect(xmlDeclaredEncoding(ascii(`<?xml version='1.0' encoding='koi8-r'?><rss/>`))).toBe('koi8-r');
    expect(xmlDeclaredEncoding(ascii('<?xml version="1.0"?><rss/>'))).toBeUndefined();
    expect(xmlDeclaredEncoding(ascii('<rss encoding="latin1"/>'))).toBeUndefined();
  });

  it('ignores a UTF-16 declaration in a document readable byte by byte', () => {
    expect(xmlDeclaredEncoding(ascii('<?xml version="1.0" encoding="UTF-16"?><rss/>'))).toBeUndefined();
  });
});
