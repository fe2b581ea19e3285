import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Which of the tracer's packages a fresh import of the code loaded: the Powertools tracer brings the
// X-Ray SDK, which costs every cold start whether or not anything is traced.
const loaded: string[] = [];
vi.mock('@aws-lambda-powertools/tracer', async (importOriginal) => {
  loaded.push('@aws-lambda-powertools/tracer');
  return importOriginal();
});
vi.mock('@aws-lambda-powertools/tracer/middleware', async (importOriginal) => {
  loaded.push('@aws-lambda-powertools/tracer/middleware');
  return importOriginal();
});

/** The X-Ray SDK's middleware, which captureAWSv3Client adds to a client's stack. */
const XRAY_MIDDLEWARE = /XRaySDKInstrumentation/;
const middlewareNames = (client: { middlewareStack: { identify(): string[] } }) =>
  client.middlewareStack.identify().join(' ');

beforeEach(() => {
  loaded.length = 0;
  vi.resetModules();
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
});

afterEach(() => {
  vi.unstubAllEnvs();
});

// First in this file: vi.mock's factories run once per file, at the first import of their module.
describe('tracing off: the X-Ray SDK is not loaded', () => {
  it('loads no tracer package with a handler outside Lambda (no AWS_EXECUTION_ENV)', async () => {
    // Arrange
    vi.stubEnv('AWS_EXECUTION_ENV', '');
    // Act
    await import('#functions/onAlarm/handler.ts');
    // Assert
    expect(loaded).toEqual([]);
  });
});

describe('tracing on: SDK calls and the handler are traced', () => {
  it('captures the clients built before the first invocation once it has started, and later ones at once', async () => {
    // Arrange: Lambda's environment, tracing not switched off.
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', '');
    // Outside Lambda there is no segment to open subsegments in: no error for it.
    vi.stubEnv('AWS_XRAY_CONTEXT_MISSING', 'IGNORE_ERROR');
    const { sns } = await import('#shared/aws/sns.ts');
    const { tracer, tracingMiddleware } = await import('#shared/runtime/powertools.ts');
    const { SNSClient } = await import('@aws-sdk/client-sns');
    const request = { event: {}, context: {}, response: undefined, error: undefined, internal: {} };
    // Act
    for (const middleware of tracingMiddleware()) await middleware.before?.(request as never);
    const later = tracer.captureAWSv3Client(new SNSClient({}));
    // Assert
    expect(loaded).toContain('@aws-lambda-powertools/tracer');
    expect(middlewareNames(sns)).toMatch(XRAY_MIDDLEWARE);
    expect(middlewareNames(later)).toMatch(XRAY_MIDDLEWARE);
  });

  it('leaves clients untouched when tracing is off', async () => {
    // Arrange
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false');
    const { sns } = await import('#shared/aws/sns.ts');
    const { tracingMiddleware } = await import('#shared/runtime/powertools.ts');
    // Act
    for (const middleware of tracingMiddleware()) await middleware.before?.({ internal: {} } as never);
    // Assert
    expect(middlewareNames(sns)).not.toMatch(XRAY_MIDDLEWARE);
  });
});
