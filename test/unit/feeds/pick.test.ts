import { describe, expect, it } from 'vitest';
import { urlsToEnqueue } from '../../../shared/feeds/pick.js';
import { item, parseFixture } from './fixtures.js';

describe('urlsToEnqueue', () => {
  it('picks every enclosure URL by default', () => {
    const first = parseFixture('rss2-enclosures.xml').items[0]!;

    expect(urlsToEnqueue(first)).toEqual([
      'https://cdn.pod.example/ep1.mp3',
      'https://cdn.pod.example/ep1.ogg?sig=a%2Fb%3D&exp=1700000000&utm_source=feed',
    ]);
  });

  it('falls back to the link when the item has no enclosure', () => {
    const first = parseFixture('rss091.xml').items[0]!;

    expect(urlsToEnqueue(first, 'enclosure')).toEqual(['http://old.example/files/tool-1.0.zip']);
  });

  it('picks only the link in link mode', () => {
    const first = parseFixture('rss2-enclosures.xml').items[0]!;

    expect(urlsToEnqueue(first, 'link')).toEqual(['https://pod.example/show/1']);
  });

  it('keeps only absolute http(s) URLs', () => {
    const it1 = item({
      link: 'ftp://files.example/a.zip',
      enclosures: [
        { url: 'magnet:?xt=urn:btih:abc' },
        { url: 'media/relative.mp3' },
        { url: 'HTTPS://Ok.example/b' },
      ],
    });

    expect(urlsToEnqueue(it1)).toEqual(['HTTPS://Ok.example/b']);
    expect(urlsToEnqueue(it1, 'link')).toEqual([]);
  });

  it('falls back to the link when no enclosure is http(s)', () => {
    expect(
      urlsToEnqueue(item({ link: 'https://a.example/page', enclosures: [{ url: 'data:text/plain,x' }] })),
    ).toEqual(['https://a.example/page']);
  });

  it('lists a URL once per item', () => {
    const dup = item({ enclosures: [{ url: 'https://a.example/f' }, { url: 'https://a.example/f' }] });

    expect(urlsToEnqueue(dup)).toEqual(['https://a.example/f']);
  });

  it('picks nothing from an item without any URL', () => {
    expect(urlsToEnqueue(parseFixture('rss2-enclosures.xml').items[5]!)).toEqual([]);
  });
});
