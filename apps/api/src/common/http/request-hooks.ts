/**
 * Fastify hooks every request passes, matched or not: a fresh request id (`req-<uuid>`, sent back as
 * `x-openstack-request-id`, and as `x-compute-request-id` on compute calls, as Nova does), the API surface
 * the path belongs to, and for compute the negotiated microversion with Nova's response headers.
 * Must never log a token: the access log writes method, path, status, duration, request id and the
 * client's name (the first product of its User-Agent) only.
 */
import { randomUUID } from 'node:crypto';

import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { ApiError } from './api-error.js';
import { type HttpFailure, sendFailure } from './exception.filter.js';
import { LEGACY_VERSION_HEADER, VERSION_HEADER, negotiateMicroversion } from './microversion.js';
import type { ApiSurface } from './request-state.js';

export interface HookOptions {
  readonly imagePrefix: string;
  readonly networkPrefix: string;
  readonly accessLog: boolean;
  readonly authUrl: () => string;
}

export function surfaceOf(path: string, imagePrefix: string, networkPrefix = '/networking'): ApiSurface {
  const under = (prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);
  if (under('/v3')) return 'identity';
  if (under('/v2.1')) return 'compute';
  if (under(imagePrefix)) return 'image';
  if (under(networkPrefix)) return 'network';
  return 'root';
}

/**
 * Paths Nova and Glance route nowhere though the router would take them: a resource path with a
 * trailing slash (`GET /v2.1/servers/`, `GET /v2/images/`: not the list, and not an item with an
 * empty id). Their version documents (`/v2.1/`) and Keystone take either.
 */
function isUnroutedTrailingSlash(path: string, surface: ApiSurface, imagePrefix: string): boolean {
  if (!path.endsWith('/')) return false;
  if (surface === 'compute') return path !== '/v2.1/';
  return surface === 'image' && path.startsWith(`${imagePrefix}/v2/`) && path !== `${imagePrefix}/v2/`;
}

/**
 * What Nova and Glance answer a HEAD on a resource (Fastify would serve it from the GET route): Nova
 * routes no HEAD but on its version documents (404), Glance answers 405 with the methods the path
 * takes. Keystone serves HEAD from GET, as Fastify does.
 */
function headRefusal(
  fastify: FastifyInstance,
  request: FastifyRequest,
  path: string,
  surface: ApiSurface,
  imagePrefix: string,
): HttpFailure | null {
  if (request.method !== 'HEAD') return null;
  if (surface === 'compute' && path !== '/v2.1' && path !== '/v2.1/') {
    return { status: 404, message: 'The resource could not be found.' };
  }
  if (surface === 'image' && path.startsWith(`${imagePrefix}/v2/`)) {
    const url = request.routeOptions.url;
    const allowed =
      url === undefined
        ? []
        : ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((method) => fastify.hasRoute({ method, url }));
    return {
      status: 405,
      message: 'The method is not allowed for this resource.',
      headers: { Allow: allowed.join(', ') },
    };
  }
  return null;
}

export function installRequestHooks(fastify: FastifyInstance, options: HookOptions): void {
  const logger = new Logger('Access');
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const requestId = `req-${randomUUID()}`;
    const path = request.url.split('?', 1)[0] ?? '/';
    const surface = surfaceOf(path, options.imagePrefix, options.networkPrefix);
    request.nimbus = { requestId, surface, microversion: null, principal: null };
    reply.header('x-openstack-request-id', requestId);
    if (surface === 'identity') reply.header('Vary', 'X-Auth-Token');
    const refusal = isUnroutedTrailingSlash(path, surface, options.imagePrefix)
      ? { status: 404, message: 'The resource could not be found.' }
      : headRefusal(fastify, request, path, surface, options.imagePrefix);
    if (refusal) {
      sendFailure(request, reply, refusal, options.authUrl());
      return reply;
    }
    if (surface === 'compute' && request.method === 'OPTIONS') {
      // Nova answers OPTIONS with an empty 200 (and no CORS headers: none are configured).
      void reply.code(200).send();
      return reply;
    }
    if (surface !== 'compute') return;
    reply.header('x-compute-request-id', requestId);
    try {
      const version = negotiateMicroversion(request.headers);
      request.nimbus.microversion = version;
      reply.header(VERSION_HEADER, `compute ${version.toString()}`);
      reply.header(LEGACY_VERSION_HEADER, version.toString());
      reply.header('Vary', `${VERSION_HEADER}, ${LEGACY_VERSION_HEADER}`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      sendFailure(request, reply, { status: error.status, message: error.message }, options.authUrl());
      return reply;
    }
  });
  if (options.accessLog) {
    fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?', 1)[0] ?? '/';
      logger.log(
        `${request.method} ${path} ${reply.statusCode} ${Math.round(reply.elapsedTime)}ms ${request.nimbus?.requestId ?? '-'} ${clientOf(request)}`,
      );
    });
  }
}

/** The first product token of the User-Agent (`python-novaclient`, `keystoneauth1/5.1.1`), or `-`. */
function clientOf(request: FastifyRequest): string {
  const agent = request.headers['user-agent'];
  const product = typeof agent === 'string' ? /^[\x21-\x7e]{1,64}/.exec(agent)?.[0] : undefined;
  return product ?? '-';
}
