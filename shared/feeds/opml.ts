/**
 * OPML subscription lists (the export format of feed readers) to feed URLs. feedsmith's `parseOpml`
 * parses the file; this flattens the outline tree (folders nest feeds to any depth) and says why each
 * outline that is not imported was refused. The caller checks the document's size before parsing.
 */
import { type Opml, parseOpml } from 'feedsmith';
import { OpmlError } from './errors.js';
import { isHttpUrl, resolveUrl } from './urls.js';

/** Bounds on one OPML import. */
export interface OpmlLimits {
  /**
   * Most outlines (folders included) in one file; a larger file is refused whole rather than cut short.
   * @default 500
   */
  maxOutlines: number;
}

/** The defaults documented on {@link OpmlLimits}. */
export const DEFAULT_OPML_LIMITS: Readonly<OpmlLimits> = Object.freeze({ maxOutlines: 500 });

/** A feed found in the file. */
export interface OpmlFeed {
  url: string;
  title?: string;
}

/** The attributes of a refused outline, to show the user which one it was. */
export interface OpmlOutlineRef {
  text?: string;
  title?: string;
  xmlUrl?: string;
}

/** Result of {@link parseOpmlFeeds}. */
export interface OpmlImport {
  feeds: OpmlFeed[];
  refused: { outline: OpmlOutlineRef; reason: string }[];
}

type Outline = Opml.Outline<string>;

/**
 * The feeds of an OPML document, outlines flattened depth-first in document order. An outline with
 * children and no `xmlUrl` is a folder and is neither imported nor refused; a leaf without `xmlUrl`, a
 * non-http(s) `xmlUrl`, and a repeat of an earlier URL are refused with a reason.
 * Throws {@link OpmlError} when the document is not OPML or has more than `maxOutlines` outlines.
 */
export function parseOpmlFeeds(text: string, limits: Readonly<OpmlLimits> = DEFAULT_OPML_LIMITS): OpmlImport {
  let doc: Opml.Document<string>;
  try {
    doc = parseOpml(text);
  } catch (err) {
    throw new OpmlError('not an OPML document (expected <opml> with a <body> of <outline> elements)', {
      cause: err,
    });
  }
  const outlines = flatten(doc.body?.outlines ?? [], limits.maxOutlines);
  const result: OpmlImport = { feeds: [], refused: [] };
  const seen = new Set<string>();
  for (const o of outlines) {
    const xmlUrl = o.xmlUrl?.trim();
    if (!xmlUrl) {
      if (!o.outlines?.length) result.refused.push({ outline: refOf(o), reason: 'no xmlUrl' });
      continue;
    }
    if (!isHttpUrl(xmlUrl)) {
      result.refused.push({ outline: refOf(o), reason: 'xmlUrl is not an http(s) URL' });
      continue;
    }
    const url = resolveUrl(xmlUrl) ?? xmlUrl;
    if (seen.has(url)) {
      result.refused.push({ outline: refOf(o), reason: 'duplicate of an earlier outline' });
      continue;
    }
    seen.add(url);
    const title = (o.title ?? o.text)?.trim();
    result.feeds.push(title ? { url, title } : { url });
  }
  return result;
}

/** Depth-first, document order, without recursion (nesting depth is the file's choice). */
function flatten(roots: readonly Outline[], max: number): Outline[] {
  const out: Outline[] = [];
  const stack = [...roots].reverse();
  while (stack.length > 0) {
    const o = stack.pop()!;
    out.push(o);
    if (out.length > max)
      throw new OpmlError(`more than ${max} outlines; split the file and import each part`);
    for (let i = (o.outlines?.length ?? 0) - 1; i >= 0; i--) stack.push(o.outlines![i]!);
  }
  return out;
}

function refOf(o: Outline): OpmlOutlineRef {
  const ref: OpmlOutlineRef = {};
  if (o.text) ref.text = o.text;
  if (o.title) ref.title = o.title;
  if (o.xmlUrl) ref.xmlUrl = o.xmlUrl;
  return ref;
}
