import {
  createServer,
  request as forward,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './random.ts';

/**
 * A loopback HTTP proxy in front of moto that makes a share of the SDK's calls fail the ways AWS calls
 * fail: throttled (400 with the protocol's throttling code), a server error (500 or 503), a timeout (no
 * answer until the SDK gives up) and a lost response (moto applies the call, the answer never arrives).
 * Deterministic: one seeded PRNG decides every request, so a failure names the seed that replays it.
 * Bounded: at most `maxFaults` faults, each hold at most `holdMs`, and it answers on 127.0.0.1 only.
 */
export type FaultKind = 'throttle' | 'server-error' | 'timeout' | 'lost-response';
export const FAULT_KINDS: readonly FaultKind[] = ['throttle', 'server-error', 'timeout', 'lost-response'];

export interface FaultProxyOptions {
  /** The moto endpoint every request is forwarded to, e.g. http://127.0.0.1:5000. */
  target: string;
  seed: number;
  /** Share of requests that fail, 0 to 1. */
  rate: number;
  /** How long a timeout holds the request before dropping it: set above the SDK's request timeout. */
  holdMs: number;
  /** No more faults after this many: the proxy then only forwards, so every run ends. */
  maxFaults: number;
  /** The kinds to draw from; all by default. */
  kinds?: readonly FaultKind[];
}

/** One call that reached the proxy: its service and operation, and what the proxy did with it. */
export interface ProxiedCall {
  service: string;
  operation: string;
  /** The request body as sent (query string, JSON or CBOR as text): enough to find an instance id. */
  body: string;
  fault: FaultKind | 'none';
  /** Whether moto received it: true for forwarded calls and lost responses. */
  applied: boolean;
  /** moto's HTTP status when it received the call (2xx: it did what was asked), also for a lost response. */
  upstreamStatus?: number;
  /** The start of moto's answer, also for a lost response: what the call did (e.g. a previous state). */
  upstreamBody?: string;
}

export interface FaultProxy {
  endpoint: string;
  seed: number;
  calls: ProxiedCall[];
  /** Faults on or off (setup and checks run with them off). */
  setEnabled(on: boolean): void;
  faultCounts(): Record<FaultKind, number>;
  stop(): Promise<void>;
}

/** The service from the SigV4 credential scope: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
function serviceOf(req: IncomingMessage): string {
  const match = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(req.headers.authorization ?? '');
  return match?.[1] ?? 'unknown';
}

/** The operation: JSON protocols name it in X-Amz-Target, query protocols in `Action=`, RPCv2 in the path. */
function operationOf(req: IncomingMessage, body: string): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.split('.').pop() ?? target;
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1];
  if (action) return action;
  const rpc = /\/operation\/([A-Za-z]+)/.exec(req.url ?? '')?.[1];
  return rpc ?? `${req.method} ${req.url?.split('?')[0]}`;
}

/**
 * A throttling answer the SDK classifies as one: the JSON protocols read `__type`, the query and EC2
 * protocols the XML `Code`; RPCv2 CBOR (CloudWatch) and REST-XML (S3) get HTTP 429, which the SDK
 * treats as a throttle whatever the body
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
 */
function throttle(req: IncomingMessage, res: ServerResponse): void {
  const ec2 = serviceOf(req) === 'ec2';
  answerError(req, res, ec2 ? 503 : 400, ec2 ? 'RequestLimitExceeded' : 'Throttling', 'Rate exceeded');
}

/** An error answer in the request's protocol, so the SDK reads its code as it would AWS's. */
function answerError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
) {
  const contentType = req.headers['content-type'] ?? '';
  const text = `${message} (fault proxy)`;
  if (contentType.includes('x-amz-json')) {
    // The JSON protocols name a throttle ThrottlingException (the query protocols' Throttling).
    const type = code === 'Throttling' ? 'ThrottlingException' : code;
    res.writeHead(status, { 'content-type': contentType, 'x-amzn-errortype': type });
    res.end(JSON.stringify({ __type: type, message: text }));
    return;
  }
  if (contentType.includes('x-www-form-urlencoded')) {
    const body =
      serviceOf(req) === 'ec2'
        ? `<Response><Errors><Error><Code>${code}</Code><Message>${text}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>`
        : `<ErrorResponse><Error><Type>${status < 500 ? 'Sender' : 'Receiver'}</Type><Code>${code}</Code><Message>${text}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`;
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(body);
    return;
  }
  if (status === 400) {
    res.writeHead(429, {});
    res.end();
    return;
  }
  res.writeHead(status, {});
  res.end();
}

/** Keeps the first 2 KB of an answer on the call, as it streams past. */
function keepStart(answer: IncomingMessage, call: ProxiedCall): void {
  call.upstreamBody = '';
  answer.on('data', (chunk: Buffer) => {
    if ((call.upstreamBody?.length ?? 0) < 2048) call.upstreamBody += chunk.toString('utf8').slice(0, 2048);
  });
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost') {
    throw new Error(`the fault proxy forwards to loopback only, not ${target.hostname}`);
  }
  const random = seededRandom(options.seed);
  const calls: ProxiedCall[] = [];
  const counts: Record<FaultKind, number> = {
    throttle: 0,
    'server-error': 0,
    timeout: 0,
    'lost-response': 0,
  };
  let enabled = true;
  let faults = 0;
  const held = new Set<NodeJS.Timeout>();

  const pickFault = (): FaultKind | 'none' => {
    // Always draw both numbers: the sequence of decisions depends on the seed alone.
    const hit = random() < options.rate;
    const kinds = options.kinds ?? FAULT_KINDS;
    const kind = kinds[Math.floor(random() * kinds.length)] ?? 'throttle';
    if (!enabled || !hit || faults >= options.maxFaults) return 'none';
    faults++;
    counts[kind]++;
    return kind;
  };

  const passOn = (req: IncomingMessage, body: Buffer, onAnswer: (answer: IncomingMessage) => void) => {
    const upstream = forward(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      onAnswer,
    );
    upstream.on('error', () => req.socket.destroy());
    upstream.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      const fault = pickFault();
      const call: ProxiedCall = {
        service: serviceOf(req),
        operation: operationOf(req, text),
        body: text,
        fault,
        applied: fault === 'none' || fault === 'lost-response',
      };
      calls.push(call);
      switch (fault) {
        case 'throttle':
          throttle(req, res);
          return;
        case 'server-error':
          if (random() < 0.5) answerError(req, res, 500, 'InternalFailure', 'Internal failure');
          else answerError(req, res, 503, 'ServiceUnavailable', 'Service unavailable');
          return;
        case 'timeout': {
          // Say nothing until the SDK has given up, then drop the connection: never forwarded.
          const timer = setTimeout(() => {
            held.delete(timer);
            res.socket?.destroy();
          }, options.holdMs);
          held.add(timer);
          return;
        }
        case 'lost-response':
          // moto applies the call; its answer is thrown away and the connection reset.
          passOn(req, body, (answer) => {
            call.upstreamStatus = answer.statusCode;
            keepStart(answer, call);
            answer.on('end', () => res.socket?.destroy());
            answer.resume();
          });
          return;
        default:
          passOn(req, body, (answer) => {
            call.upstreamStatus = answer.statusCode;
            keepStart(answer, call);
            // moto's clock is the real one while a test may move the process's clock on (Lambda's
            // retry waits): without its Date the SDK does not take that for clock skew to correct.
            const { date: _date, ...headers } = answer.headers;
            res.writeHead(answer.statusCode ?? 502, headers);
            answer.pipe(res);
          });
      }
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    seed: options.seed,
    calls,
    setEnabled(on) {
      enabled = on;
    },
    faultCounts: () => ({ ...counts }),
    async stop() {
      for (const timer of held) clearTimeout(timer);
      held.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
