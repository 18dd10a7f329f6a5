import { describe, expect, it } from 'vitest';
import { OpmlError } from '../../../shared/feeds/errors.js';
import { parseOpmlFeeds } from '../../../shared/feeds/opml.js';
import { fixtureBytes } from './fixtures.js';

const subscriptions = fixtureBytes('subscriptions.opml').toString('utf8');

describe('parseOpmlFeeds', () => {
  it('flattens nested outlines into feeds in document order, title before text', () => {
    expect(parseOpmlFeeds(subscriptions).feeds).toEqual([
      { url: 'https://pod.example/feed.xml', title: 'Example Podcast (HD)' },
      { url: 'https://deep.example/atom.xml?key=a%2Fb&x=1', title: 'Deep feed' },
      { url: 'https://atom.example/feed.atom', title: 'Releases' },
    ]);
  });

  it('refuses a leaf without xmlUrl, a non-http(s) xmlUrl and a duplicate, each with its reason', () => {
    expect(parseOpmlFeeds(subscriptions).refused).toEqual([
      { outline: { text: 'A note without a feed' }, reason: 'no xmlUrl' },
      {
        outline: { text: 'Gopher feed', xmlUrl: 'gopher://old.example/feed' },
        reason: 'xmlUrl is not an http(s) URL',
      },
      {
        outline: { text: 'Example Podcast again', xmlUrl: 'https://pod.example/feed.xml' },
        reason: 'duplicate of an earlier outline',
      },
    ]);
  });

  it('neither imports nor refuses folder outlines', () => {
    const refusedTexts = parseOpmlFeeds(subscriptions).refused.map((r) => r.outline.text);

    expect(refusedTexts).not.toContain('Podcasts');
    expect(refusedTexts).not.toContain('Nested folder');
  });

  it('refuses a file with more outlines than the cap, folders counted', () => {
    // subscriptions.opml has 8 outlines, 2 of them folders.
    expect(() => parseOpmlFeeds(subscriptions, { maxOutlines: 7 })).toThrow(OpmlError);
    expect(() => parseOpmlFeeds(subscriptions, { maxOutlines: 7 })).toThrow(/more than 7 outlines/);
    expect(parseOpmlFeeds(subscriptions, { maxOutlines: 8 }).feeds).toHaveLength(3);
  });

  it('raises OpmlError, keeping the cause, for a document that is not OPML', () => {
    const err = (() => {
      try {
        parseOpmlFeeds(fixtureBytes('not-a-feed.html').toString('utf8'));
      } catch (e) {
        return e;
      }
    })();

    expect(err).toBeInstanceOf(OpmlError);
    expect((err as OpmlError).cause).toBeInstanceOf(Error);
  });
});
