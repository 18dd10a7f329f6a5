import { describe, expect, it } from 'vitest';
import { decodeFeedBytes } from '../../../shared/feeds/decode.js';
import { FeedError, FeedParseError } from '../../../shared/feeds/errors.js';
import { parseFeedDocument, rssChannelXmlBase } from '../../../shared/feeds/parse.js';
import { fixtureBytes, parseFixture } from './fixtures.js';

const DOC_URL = 'https://doc.example/feeds/main.xml';

function parseError(text: string): FeedParseError {
  try {
    parseFeedDocument(text);
  } catch (err) {
    expect(err).toBeInstanceOf(FeedParseError);
    expect(err).toBeInstanceOf(FeedError);
    return err as FeedParseError;
  }
  throw new Error('expected a FeedParseError');
}

describe('parseFeedDocument: RSS 2.0', () => {
  const doc = parseFixture('rss2-enclosures.xml');

  it('reads the channel: format, title, link, ttl and the syndication hints', () => {
    expect(doc).toMatchObject({
      format: 'rss',
      title: 'Example Podcast',
      link: 'https://pod.example/show/',
      ttlMinutes: 120,
      syndication: { period: 'hourly', frequency: 2 },
    });
  });

  it('keeps every <enclosure> of an item with type and length, query string untouched', () => {
    expect(doc.items[0]).toEqual({
      guid: 'pod-episode-1',
      link: 'https://pod.example/show/1',
      title: 'Episode 1: Two formats',
      published: Date.UTC(2024, 0, 2, 10),
      enclosures: [
        { url: 'https://cdn.pod.example/ep1.mp3', type: 'audio/mpeg', length: 12_345_678 },
        {
          url: 'https://cdn.pod.example/ep1.ogg?sig=a%2Fb%3D&exp=1700000000&utm_source=feed',
          type: 'audio/ogg',
          length: 9_876_543,
        },
      ],
    });
  });

  it('adds Media RSS media:content, one member per media:group (the isDefault one), without repeating a URL', () => {
    expect(doc.items[1]?.enclosures.map((e) => e.url)).toEqual([
      'https://cdn.pod.example/ep2.mp4',
      'https://cdn.pod.example/ep2-extras.zip',
      'https://cdn.pod.example/ep2-1080p.mp4',
    ]);
  });

  it('reads a title with raw & characters', () => {
    expect(doc.items[2]?.title).toBe('Tom & Jerry & Friends');
  });

  it('yields items without a guid and repeated items as they are', () => {
    expect(doc.items).toHaveLength(6);
    expect(doc.items[2]?.guid).toBeUndefined();
    expect(doc.items[3]?.guid).toBe(doc.items[0]?.guid);
    expect(doc.items[5]).toEqual({
      title: 'Announcement without any URL',
      published: Date.UTC(2024, 0, 5, 10),
      enclosures: [],
    });
  });

  it('resolves relative URLs without xml:base against the channel link', () => {
    expect(doc.items[4]).toMatchObject({
      link: 'https://pod.example/show/5',
      enclosures: [{ url: 'https://pod.example/show/media/ep5.mp3' }],
    });
  });

  it('uses a permalink guid as the link when the item has none', () => {
    const d = parseFeedDocument(
      '<rss version="2.0"><channel><title>t</title><item><guid>https://p.example/a?id=1</guid></item>' +
        '<item><guid isPermaLink="false">https://p.example/b</guid></item></channel></rss>',
    );

    expect(d.items.map((i) => i.link)).toEqual(['https://p.example/a?id=1', undefined]);
  });
});

describe('parseFeedDocument: xml:base and relative URLs', () => {
  it('resolves RSS item URLs against the item xml:base, itself relative to the channel xml:base', () => {
    const doc = parseFixture('rss2-xml-base.xml', DOC_URL);

    expect(doc.items[0]).toMatchObject({
      link: 'https://files.example/releases/season1/notes/s01e01.html',
      enclosures: [{ url: 'https://files.example/releases/season1/S01E01.mkv?token=x%20y&a=1' }],
    });
  });

  it('resolves RSS item URLs against the channel xml:base (which feedsmith drops) before the channel link', () => {
    const doc = parseFixture('rss2-xml-base.xml', DOC_URL);

    expect(doc.items[1]?.enclosures[0]?.url).toBe('https://files.example/releases/S02E01.mkv');
    expect(doc.items[2]?.enclosures[0]?.url).toBe('https://mirror.example/pool/S03E01.mkv');
  });

  it('resolves Atom URLs against the entry xml:base, then the feed xml:base', () => {
    const doc = parseFixture('atom1.xml', DOC_URL);

    expect(doc.link).toBe('https://atom.example/site/');
    expect(doc.items[0]).toMatchObject({
      link: 'https://atom.example/base/releases/2024/notes.html',
      enclosures: [
        {
          url: 'https://atom.example/base/releases/2024/app-2024.1.tar.gz?sig=abc%3D%3D&exp=99',
          type: 'application/gzip',
          length: 4096,
        },
        { url: 'https://atom.example/base/releases/2024/app-2024.1.zip', type: 'application/zip' },
      ],
    });
    expect(doc.items[1]?.enclosures).toEqual([
      { url: 'https://atom.example/base/files/app-2023.9.tar.gz', length: 2048 },
    ]);
  });

  it('resolves against the document URL when there is neither xml:base nor a feed link', () => {
    const doc = parseFixture('rss2-relative-no-link.xml', DOC_URL);

    expect(doc.items[0]).toMatchObject({
      link: 'https://doc.example/builds/2024-07-01.html',
      enclosures: [
        { url: 'https://doc.example/builds/2024-07-01.tar.xz?X-Amz-Signature=ab%2Bcd&X-Amz-Expires=3600' },
      ],
    });
  });

  it('keeps a URL that nothing can resolve as written', () => {
    const doc = parseFixture('rss2-relative-no-link.xml');

    expect(doc.items[0]?.link).toBe('../builds/2024-07-01.html');
  });

  it('reads the xml:base of an RSS <channel> start tag, entities decoded', () => {
    expect(rssChannelXmlBase(`<rss><channel xml:lang="en" xml:base='https://b.example/?a=1&amp;b=2'>`)).toBe(
      'https://b.example/?a=1&b=2',
    );
    expect(rssChannelXmlBase('<rss><channel><title>x</title>')).toBeUndefined();
  });
});

describe('parseFeedDocument: other formats', () => {
  it('reads RSS 0.91 items (title and link only)', () => {
    const doc = parseFixture('rss091.xml');

    expect(doc.format).toBe('rss');
    expect(doc.items).toEqual([
      { link: 'http://old.example/files/tool-1.0.zip', title: 'Tool 1.0 released', enclosures: [] },
      { link: 'http://old.example/files/tool-1.1.zip', title: 'Tool 1.1 released', enclosures: [] },
    ]);
  });

  it('reads RSS 1.0 / RDF: rdf:about as guid, dc:date as published, relative link under xml:base, sy hints', () => {
    const doc = parseFixture('rss1-rdf.xml');

    expect(doc).toMatchObject({
      format: 'rdf',
      title: 'RDF Site Summary',
      syndication: { period: 'daily', frequency: 4 },
    });
    expect(doc.items[1]).toEqual({
      guid: 'https://rdf.example/archive/2',
      link: 'https://rdf.example/archive/2.tar.gz',
      title: 'Second archive',
      published: Date.UTC(2024, 2, 2, 7),
      enclosures: [],
    });
  });

  it('reads Atom 1.0: id as guid, rel="enclosure" links in any case, a media:group member', () => {
    const doc = parseFixture('atom1.xml');

    expect(doc.format).toBe('atom');
    expect(doc.items.map((i) => i.guid)).toEqual([
      'tag:atom.example,2024:release-1',
      'tag:atom.example,2023:release-9',
      'tag:atom.example,2024:video',
    ]);
    expect(doc.items[0]?.published).toBe(Date.UTC(2024, 3, 1, 12));
    expect(doc.items[2]?.enclosures).toEqual([
      { url: 'https://atom.example/base/video/720.mp4', type: 'video/mp4' },
    ]);
  });

  it('reads Atom 0.3: issued as published, the alternate link', () => {
    const doc = parseFixture('atom03.xml');

    expect(doc).toMatchObject({ format: 'atom', title: 'Legacy Atom', link: 'http://legacy.example/' });
    expect(doc.items).toEqual([
      {
        guid: 'tag:legacy.example,2004:1',
        link: 'http://legacy.example/2004/01/01/entry',
        title: 'Legacy entry',
        published: Date.UTC(2004, 0, 1, 10),
        enclosures: [],
      },
    ]);
  });

  it('reads JSON Feed 1.0 attachments and resolves a relative item URL against home_page_url', () => {
    const doc = parseFixture('jsonfeed10.json');

    expect(doc).toMatchObject({ format: 'json', title: 'JSON Feed One', link: 'https://json1.example/' });
    expect(doc.items[0]?.enclosures).toEqual([
      { url: 'https://json1.example/files/one.pdf', type: 'application/pdf', length: 1234 },
    ]);
    expect(doc.items[1]).toEqual({ guid: '2', link: 'https://json1.example/posts/2', enclosures: [] });
  });

  it('reads JSON Feed 1.1: every attachment, external_url as the link when url is missing', () => {
    const doc = parseFixture('jsonfeed11.json');

    expect(doc.items[0]).toMatchObject({
      guid: 'https://json11.example/episodes/7',
      published: Date.UTC(2024, 5, 1, 7),
      enclosures: [
        { url: 'https://cdn.json11.example/ep7.m4a', type: 'audio/x-m4a', length: 89_970_236 },
        { url: 'https://json11.example/audio/ep7.mp3?k=1&k=2', type: 'audio/mpeg' },
      ],
    });
    expect(doc.items[1]?.link).toBe('https://elsewhere.example/file.zip');
  });

  it('reads a JSON Feed that still starts with a BOM', () => {
    const text = `\uFEFF${fixtureBytes('jsonfeed11.json').toString('utf8')}`;

    expect(parseFeedDocument(text).format).toBe('json');
  });

  it('reads a windows-1252 feed end to end', () => {
    const doc = parseFixture('windows-1252.xml');

    expect(doc.title).toBe('Café des fichiers');
    expect(doc.items[0]?.title).toBe('“Présentation” – 5 €');
  });

  it('reads an ISO-8859-1 feed end to end', () => {
    expect(parseFixture('iso-8859-1.xml').items[0]?.title).toBe('Crème brûlée');
  });
});

describe('parseFeedDocument: documents that are not feeds', () => {
  it('raises FeedParseError "empty" for an empty or blank document', () => {
    expect(parseError(decodeFeedBytes(fixtureBytes('empty.xml')).text).reason).toBe('empty');
    expect(parseError(' \n\t').reason).toBe('empty');
  });

  it('raises FeedParseError "html" for an HTML page, keeping feedsmith\'s error as cause', () => {
    const err = parseError(fixtureBytes('not-a-feed.html').toString('utf8'));

    expect(err.reason).toBe('html');
    expect(err.message).toMatch(/HTML page/);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('raises FeedParseError "unrecognised" for garbage', () => {
    expect(parseError('%PDF-1.7 \u0000\u0001 garbage <<<>>> &&&').reason).toBe('unrecognised');
    expect(parseError('{"not": "a feed"}').reason).toBe('unrecognised');
  });

  it('raises FeedParseError "malformed" for a truncated RSS document', () => {
    const err = parseError(fixtureBytes('truncated.xml').toString('utf8'));

    expect(err.reason).toBe('malformed');
    expect(err.cause).toBeInstanceOf(Error);
  });
});
