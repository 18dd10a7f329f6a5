/**
 * Reading request bodies: the size limit is enforced while reading (a chunked body without
 * `Content-Length` is cut off at the limit, never buffered whole), and text must be valid UTF-8 (a body
 * with invalid bytes is refused rather than turned into URLs holding U+FFFD).
 */
import { HttpError } from './errors.js';

/**
 * Reads `stream` up to `maxBytes`, throwing a 413 {@link HttpError} as soon as it holds more (the rest
 * is not read; the stream is cancelled).
 */
export async function readBodyCapped(
  stream: ReadableStream<Uint8Array> | null | undefined,
  maxBytes: number,
): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new HttpError(413, 'bodyTooLarge', `body is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes a body as UTF-8, refusing invalid bytes with a 400 {@link HttpError}. */
export function decodeUtf8Body(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new HttpError(400, 'invalidEncoding', 'body is not valid UTF-8');
  }
}
