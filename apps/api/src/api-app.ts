/**
 * Builds and starts the API: the Nest application on Fastify, the request hooks, body parsers (JSON within
 * the body limit; image data as a stream, never buffered), the one exception filter, and the port. Used by
 * main.ts and by tests, which start it in-process on port 0 with fakes for the compute ports.
 */
import { Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

import { ApiModule } from './app.module.js';
import { installRequestHooks } from './common/http/request-hooks.js';
import { abortLineStreams } from './common/http/line-stream.js';
import { OpenStackExceptionFilter } from './common/http/exception.filter.js';
import { PublicUrl } from './common/http/public-url.js';
import type { CoreOptions } from './common/store/core.module.js';
import { PATCH_V20, PATCH_V21 } from './image/image-patch.js';

export interface RunningApi {
  readonly app: NestFastifyApplication;
  /** The URL the API is reached at (NIMBUS_API_URL, or derived from the bound address). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface StartOptions extends CoreOptions {
  readonly logLevels?: LogLevel[] | false;
}

/** How a content-type parser hands back the body it read, or why it could not. */
type ParserDone = (error: Error | null, body?: unknown) => void;

/** How long a shutdown lets requests under way finish before it cuts their connections. */
const CLOSE_GRACE_MS = 3_000;

export async function startApi(options: StartOptions): Promise<RunningApi> {
  const { config } = options;
  const adapter = new FastifyAdapter({
    bodyLimit: config.maxBodyBytes,
    // Closing ends idle keep-alive connections at once and lets requests under way finish; the audit
    // feeds and watches, which never finish, are cut first (abortLineStreams) and their clients resume.
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(options), adapter, {
    logger: options.logLevels ?? ['error', 'warn', 'log'],
    abortOnError: false,
    // Fastify's own JSON parser (within bodyLimit, refusing __proto__) reads every body but the image
    // stream and Glance's JSON patches (see below).
    bodyParser: false,
  });
  const publicUrl = app.get(PublicUrl);
  const fastify = app.getHttpAdapter().getInstance();
  const authUrl = (): string => {
    try {
      return publicUrl.identityUrl;
    } catch {
      return '/v3';
    }
  };
  installRequestHooks(fastify, {
    imagePrefix: config.imagePrefix,
    networkPrefix: config.networkPrefix,
    accessLog: config.accessLog,
    authUrl,
  });
  fastify.removeContentTypeParser('text/plain');
  // Nova reads an empty body as no body whatever its Content-Type says (scripts and SDKs send
  // `DELETE` with `Content-Type: application/json` and nothing else); anything else is parsed by
  // Fastify's own JSON parser, which refuses `__proto__` and `constructor.prototype`. Nova and Glance
  // read a body sent as `text/plain`, or with no Content-Type at all, as JSON too; other media types
  // (forms, XML) are a 415.
  const json = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  const jsonBody = (request: FastifyRequest, body: string | Buffer, done: ParserDone): void => {
    if (body === '') {
      done(null, undefined);
      return;
    }
    void json(request, String(body), done);
  };
  const asString = { parseAs: 'string', bodyLimit: config.maxBodyBytes } as const;
  fastify.addContentTypeParser(['application/json', 'text/plain'], asString, jsonBody);
  fastify.addContentTypeParser('*', asString, (request, body: unknown, done) => {
    if (request.headers['content-type'] === undefined) {
      jsonBody(request, String(body), done);
      return;
    }
    done(
      Object.assign(new Error('Unsupported Content-Type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }),
      undefined,
    );
  });
  // Image data streams straight to disk: the parser hands the handler the request stream itself.
  fastify.addContentTypeParser('application/octet-stream', (_request, payload, done) => {
    done(null, payload);
  });
  // Glance's JSON-patch media types, for `PATCH /v2/images/{id}` bodies.
  fastify.addContentTypeParser(
    [PATCH_V21, PATCH_V20],
    { parseAs: 'string', bodyLimit: config.maxBodyBytes },
    (_request, body, done) => {
      try {
        done(null, JSON.parse(String(body)) as unknown);
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
  app.useGlobalFilters(new OpenStackExceptionFilter(authUrl));
  app.enableShutdownHooks();
  if (config.publicUrl !== undefined) publicUrl.set(config.publicUrl);
  await app.init();
  await app.listen({ port: config.port, host: config.host });
  const address = fastify.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  if (config.publicUrl === undefined) {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    publicUrl.set(`http://${host}:${port}`);
  }
  new Logger('Api').log(`serving identity, compute and image on ${publicUrl.get()}`);
  return {
    app,
    url: publicUrl.get(),
    port,
    close: async () => {
      abortLineStreams();
      // Requests under way get a moment to finish; whatever still holds a connection then is cut.
      const server = app.getHttpServer();
      const cut = setTimeout(() => {
        server.closeAllConnections();
      }, CLOSE_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
    },
  };
}
