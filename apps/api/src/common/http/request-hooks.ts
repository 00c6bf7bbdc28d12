/**
 * Fastify hooks every request passes, matched or not: a fresh request id (`req-<uuid>`, sent back as
 * `x-openstack-request-id`, and as `x-compute-request-id` on compute calls, as Nova does), the API surface
 * the path belongs to, and for compute the negotiated microversion with Nova's response headers.
 * Must never log a token: the access log writes method, path, status, duration and request id only.
 */
import { randomUUID } from 'node:crypto';

import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { ApiError } from './api-error.js';
import { sendFailure } from './exception.filter.js';
import { LEGACY_VERSION_HEADER, VERSION_HEADER, negotiateMicroversion } from './microversion.js';
import type { ApiSurface } from './request-state.js';

export interface HookOptions {
  readonly imagePrefix: string;
  readonly accessLog: boolean;
  readonly authUrl: () => string;
}

export function surfaceOf(path: string, imagePrefix: string): ApiSurface {
  const under = (prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);
  if (under('/v3')) return 'identity';
  if (under('/v2.1')) return 'compute';
  if (under(imagePrefix)) return 'image';
  return 'root';
}

function isGlanceTrailingSlash(path: string, imagePrefix: string): boolean {
  const versioned = `${imagePrefix}/v2/`;
  return path.endsWith('/') && path.startsWith(versioned) && path.length > versioned.length;
}

export function installRequestHooks(fastify: FastifyInstance, options: HookOptions): void {
  const logger = new Logger('Access');
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const requestId = `req-${randomUUID()}`;
    const path = request.url.split('?', 1)[0] ?? '/';
    const surface = surfaceOf(path, options.imagePrefix);
    request.nimbus = { requestId, surface, microversion: null, principal: null };
    reply.header('x-openstack-request-id', requestId);
    if (surface === 'identity') reply.header('Vary', 'X-Auth-Token');
    if (surface === 'image' && isGlanceTrailingSlash(path, options.imagePrefix)) {
      // Glance routes no resource path with a trailing slash: `GET /v2/images/` is not the list, and
      // not an image with an empty id. (Nova and Keystone take either.)
      sendFailure(
        request,
        reply,
        { status: 404, message: 'The resource could not be found.' },
        options.authUrl(),
      );
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
        `${request.method} ${path} ${reply.statusCode} ${Math.round(reply.elapsedTime)}ms ${request.nimbus?.requestId ?? '-'}`,
      );
    });
  }
}
