/** Reads the feed documents under test/fixtures/feeds (bytes as stored, so charsets are tested for real). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeFeedBytes } from '../../../shared/feeds/decode.js';
import { parseFeedDocument } from '../../../shared/feeds/parse.js';
import type { FeedDocument, FeedItem } from '../../../shared/feeds/types.js';

const DIR = fileURLToPath(new URL('../../fixtures/feeds/', import.meta.url));

/** The raw bytes of a fixture. */
export function fixtureBytes(name: string): Buffer {
  return readFileSync(`${DIR}${name}`);
}

/** A fixture decoded (no HTTP charset) and parsed. */
export function parseFixture(name: string, documentUrl?: string): FeedDocument {
  return parseFeedDocument(decodeFeedBytes(fixtureBytes(name)).text, documentUrl ? { documentUrl } : {});
}

/** A feed item with only the given fields. */
export function item(fields: Partial<FeedItem> = {}): FeedItem {
  return { enclosures: [], ...fields };
}
