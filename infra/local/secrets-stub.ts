/**
 * A tiny Secrets Manager stand-in speaking the `awsJson1_1` protocol (no npm emulator exists, see
 * platform-notes.md), so the key provider is exercised with the real SDK through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`. Supports GetSecretValue, PutSecretValue, DescribeSecret and
 * CreateSecret; errors are `{"__type", "message"}` with the `x-amzn-errortype` header, like AWS.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsStubOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** Secrets present at start, by name. */
  secrets?: Record<string, string>;
}

export interface SecretsStub {
  /** `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL_SECRETS_MANAGER`. */
  endpoint: string;
  /** GetSecretValue calls served so far, by secret name. */
  reads(name: string): number;
  close(): Promise<void>;
}

interface Secret {
  name: string;
  arn: string;
  value: string;
  versionId: string;
  createdAt: number;
}

const REGION = 'us-east-1';
const arnOf = (name: string) => `arn:aws:secretsmanager:${REGION}:000000000000:secret:${name}-AbCdEf`;

class StubError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Starts the stub on 127.0.0.1. */
export async function startSecretsStub(opts: SecretsStubOptions = {}): Promise<SecretsStub> {
  const secrets = new Map<string, Secret>();
  const readCounts = new Map<string, number>();
  const put = (name: string, value: string) => {
    const existing = secrets.get(name);
    const s: Secret = {
      name,
      arn: arnOf(name),
      value,
      versionId: randomUUID(),
      createdAt: existing?.createdAt ?? Date.now() / 1000,
    };
    secrets.set(name, s);
    return s;
  };
  for (const [name, value] of Object.entries(opts.secrets ?? {})) put(name, value);

  const find = (id: unknown): Secret => {
    if (typeof id !== 'string' || id === '')
      throw new StubError('InvalidParameterException', 'SecretId is required');
    const s = secrets.get(id) ?? [...secrets.values()].find((x) => x.arn === id);
    if (!s)
      throw new StubError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return s;
  };

  const ops: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetSecretValue(input) {
      const s = find(input.SecretId);
      readCounts.set(s.name, (readCounts.get(s.name) ?? 0) + 1);
      return {
        ARN: s.arn,
        Name: s.name,
        SecretString: s.value,
        VersionId: s.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: s.createdAt,
      };
    },
    PutSecretValue(input) {
      const s = find(input.SecretId);
      if (typeof input.SecretString !== 'string') {
        throw new StubError('InvalidParameterException', 'SecretString is required');
      }
      const next = put(s.name, input.SecretString);
      return { ARN: next.arn, Name: next.name, VersionId: next.versionId, VersionStages: ['AWSCURRENT'] };
    },
    DescribeSecret(input) {
      const s = find(input.SecretId);
      return { ARN: s.arn, Name: s.name, CreatedDate: s.createdAt, LastChangedDate: Date.now() / 1000 };
    },
    CreateSecret(input) {
      if (typeof input.Name !== 'string' || input.Name === '') {
        throw new StubError('InvalidParameterException', 'Name is required');
      }
      if (secrets.has(input.Name)) {
        throw new StubError(
          'ResourceExistsException',
          `The operation failed because the secret ${input.Name} already exists.`,
        );
      }
      const s = put(input.Name, typeof input.SecretString === 'string' ? input.SecretString : '');
      return { ARN: s.arn, Name: s.name, VersionId: s.versionId };
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown, errorType?: string) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.startsWith('secretsmanager.')
        ? ops[target.slice('secretsmanager.'.length)]
        : undefined;
      if (req.method !== 'POST' || !op)
        throw new StubError('UnknownOperationException', `unsupported: ${target}`);
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new StubError('SerializationException', 'body is not JSON');
      }
      send(res, 200, op(input));
    } catch (err) {
      const e = err instanceof StubError ? err : new StubError('InternalServiceError', 'internal error', 500);
      send(res, e.status, { __type: e.type, message: e.message }, e.type);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    reads: (name) => readCounts.get(name) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
