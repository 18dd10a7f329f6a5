/**
 * Feed bytes to text. The encoding is taken, first found wins, from:
 * 1. a byte order mark (UTF-8, UTF-16LE, UTF-16BE);
 * 2. the `charset` parameter of the HTTP `Content-Type`;
 * 3. the XML declaration's `encoding="…"`;
 * 4. UTF-8 — and when nothing declared an encoding and the bytes are not valid UTF-8, windows-1252.
 *
 * When HTTP and the XML declaration disagree, HTTP wins: RFC 7303 §3 (as RFC 3023 §3 before it) makes the
 * `charset` parameter of an XML media type authoritative over the in-document declaration, and RFC 7303
 * ranks a BOM above both. RFC 7303 also makes `text/xml` an alias of `application/xml`, so RFC 3023's
 * US-ASCII default for `text/xml` without a charset no longer applies.
 */

/** Where the encoding used came from. */
export type EncodingSource = 'bom' | 'http' | 'xml' | 'default' | 'fallback';

/** The decoded document. */
export interface DecodedFeed {
  text: string;
  /** WHATWG name of the encoding used, e.g. `utf-8`, `windows-1252`. */
  encoding: string;
  source: EncodingSource;
}

/** Bytes of the document read for the XML declaration (it must come first in the document). */
const XML_DECLARATION_WINDOW = 512;

/**
 * Decodes a fetched feed body, honouring BOM, then HTTP charset, then the XML declaration, then UTF-8
 * (see the module comment for the order and its sources). Never throws: unknown labels are skipped.
 * @example
 * decodeFeedBytes(body, response.headers.get('content-type')).text
 */
export function decodeFeedBytes(bytes: Uint8Array, contentType?: string | null): DecodedFeed {
  const bom = bomEncoding(bytes);
  if (bom) {
    return {
      text: decodeWith(bom.encoding, bytes.subarray(bom.length)),
      encoding: bom.encoding,
      source: 'bom',
    };
  }

  const fromHttp = decoderFor(charsetFromContentType(contentType));
  if (fromHttp) return { text: decodeWith(fromHttp, bytes), encoding: fromHttp, source: 'http' };

  const fromXml = decoderFor(xmlDeclaredEncoding(bytes));
  if (fromXml) return { text: decodeWith(fromXml, bytes), encoding: fromXml, source: 'xml' };

  try {
    return {
      text: new TextDecoder('utf-8', { fatal: true }).decode(bytes),
      encoding: 'utf-8',
      source: 'default',
    };
  } catch {
    // Undeclared and not UTF-8: legacy feeds are overwhelmingly windows-1252 (feedparser tries it last too).
    return { text: decodeWith('windows-1252', bytes), encoding: 'windows-1252', source: 'fallback' };
  }
}

/** The `charset` parameter of a `Content-Type` value (quotes removed), or undefined. */
export function charsetFromContentType(contentType: string | null | undefined): string | undefined {
  if (!contentType) return undefined;
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(contentType);
  const value = (m?.[1] ?? m?.[2])?.trim();
  return value ? value : undefined;
}

/**
 * The `encoding` of the XML declaration at the start of `bytes`, read as single-byte text.
 * A declared UTF-16/UTF-32 is ignored: a declaration readable byte by byte proves the document is not in
 * either (a transcoded document that kept its old declaration, a common server mistake).
 */
export function xmlDeclaredEncoding(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, XML_DECLARATION_WINDOW));
  const decl = /^\s*<\?xml\s([^>]*)\?>/.exec(head);
  if (!decl) return undefined;
  const enc = /\bencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(decl[1] ?? '');
  const label = (enc?.[1] ?? enc?.[2])?.trim();
  if (!label || /^(utf|ucs)-?(16|32|2|4)/i.test(label)) return undefined;
  return label;
}

function bomEncoding(bytes: Uint8Array): { encoding: string; length: number } | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/** The WHATWG name for `label`, or undefined when TextDecoder does not know it. */
function decoderFor(label: string | undefined): string | undefined {
  if (!label) return undefined;
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return undefined;
  }
}

function decodeWith(encoding: string, bytes: Uint8Array): string {
  // ignoreBOM: a BOM has already been stripped above, so a leading U+FEFF here is content.
  const text = new TextDecoder(encoding, { ignoreBOM: true }).decode(bytes);
  return encoding === 'windows-1252' ? fixWindows1252(text) : text;
}

/**
 * WHATWG index-windows-1252 for bytes 0x80–0x9F (the only range where it differs from ISO-8859-1).
 * The five bytes the index leaves as C1 controls (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to themselves.
 */
const WINDOWS_1252_C1 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d,
  0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a,
  0x153, 0x9d, 0x17e, 0x178,
];

/**
 * Node ≥ 20.18.3 and 22.13 decode `windows-1252` (and its `iso-8859-1`/`latin1` labels) through a Latin-1
 * fast path, so 0x80 comes out as U+0080 instead of € (nodejs/node#56542, #60888). Mapping the C1 range
 * afterwards is right on both the broken and the fixed versions (a fixed decoder emits no C1 character
 * other than the five identity ones).
 */
function fixWindows1252(text: string): string {
  return text.replace(/[\u0080-\u009f]/g, (c) =>
    String.fromCharCode(WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!),
  );
}
