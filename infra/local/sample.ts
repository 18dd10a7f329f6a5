/**
 * A tiny file the local runtime serves itself (`GET /sample/hello.txt`), so the curl line printed at start
 * works offline: the sandbox fetches it from 127.0.0.1 like 1fichier would fetch any public URL.
 */

/** Path prefix of the sample files on the local API server. */
export const SAMPLE_PREFIX = '/sample/';

/** Body of `/sample/hello.txt`; tests compare the stored file against it. */
export const SAMPLE_TEXT =
  'Hello from fichier-relay.\nThis file was fetched by the 1fichier sandbox from your machine.\n';

const SAMPLES: Record<string, { body: string; type: string }> = {
  'hello.txt': { body: SAMPLE_TEXT, type: 'text/plain; charset=utf-8' },
};

/** The URL of the sample file on a runtime listening at `baseUrl`. */
export function sampleUrl(baseUrl: string, name = 'hello.txt'): string {
  return `${baseUrl}${SAMPLE_PREFIX}${name}`;
}

/** Answers a sample request, or `undefined` when the path is not a sample (the API handles it). */
export function serveSample(req: Request): Response | undefined {
  const { pathname } = new URL(req.url);
  if (!pathname.startsWith(SAMPLE_PREFIX)) return undefined;
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const sample = SAMPLES[pathname.slice(SAMPLE_PREFIX.length)];
  if (!sample) return undefined;
  const bytes = Buffer.from(sample.body, 'utf8');
  return new Response(req.method === 'HEAD' ? null : bytes, {
    headers: {
      'content-type': sample.type,
      'content-length': String(bytes.length),
      // 1fichier names the stored file after the source; say it explicitly.
      'content-disposition': `attachment; filename="${pathname.slice(SAMPLE_PREFIX.length)}"`,
    },
  });
}
