/**
 * Glance's metadata definitions catalog, as far as clients read it: Nimbus defines no namespaces, so the
 * list is empty (with Glance's paging fields and its checks on the query) and a named namespace is
 * Glance's 404. The schemas are published so that glanceclient can build its models from them, as the
 * dashboard's launch wizard does before listing namespaces for flavors, images and servers.
 */
import { Controller, Get, Param, Query } from '@nestjs/common';

import { Policy } from '../common/auth/auth.guard.js';
import { badRequest, notFound } from '../common/http/api-error.js';
import { queryText } from '../common/validation/query.js';

const VISIBILITIES = ['public', 'private'];
const SORT_KEYS = ['created_at', 'updated_at', 'namespace'];

const NAMESPACE_SCHEMA = {
  name: 'namespace',
  properties: {
    namespace: { type: 'string', maxLength: 80, description: 'The unique namespace text.' },
    display_name: { type: 'string', maxLength: 80 },
    description: { type: 'string', maxLength: 500 },
    visibility: { type: 'string', enum: VISIBILITIES },
    protected: { type: 'boolean' },
    owner: { type: 'string', maxLength: 255 },
    created_at: { type: 'string', format: 'date-time', readOnly: true },
    updated_at: { type: 'string', format: 'date-time', readOnly: true },
    schema: { type: 'string', readOnly: true },
    self: { type: 'string', readOnly: true },
    resource_type_associations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          prefix: { type: 'string' },
          properties_target: { type: 'string' },
        },
      },
    },
    properties: { type: 'object', additionalProperties: { type: 'object' } },
    objects: { type: 'array', items: { type: 'object' } },
    tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
  },
  required: ['namespace'],
  additionalProperties: false,
};

@Controller()
export class MetadefsController {
  @Get('v2/schemas/metadefs/namespace')
  @Policy('get_metadef_namespace', 'reader', { allowService: true })
  namespaceSchema(): Record<string, unknown> {
    return NAMESPACE_SCHEMA;
  }

  @Get('v2/schemas/metadefs/namespaces')
  @Policy('get_metadef_namespaces', 'reader', { allowService: true })
  namespacesSchema(): Record<string, unknown> {
    return {
      name: 'namespaces',
      properties: {
        namespaces: { type: 'array', items: NAMESPACE_SCHEMA },
        first: { type: 'string' },
        next: { type: 'string' },
        schema: { type: 'string' },
      },
      links: [
        { rel: 'first', href: '{first}' },
        { rel: 'next', href: '{next}' },
        { rel: 'describedby', href: '{schema}' },
      ],
    };
  }

  @Get('v2/metadefs/namespaces')
  @Policy('get_metadef_namespaces', 'reader', { allowService: true })
  list(@Query() query: Record<string, unknown>): Record<string, unknown> {
    const limit = queryText(query, 'limit');
    if (limit !== undefined && !/^[0-9]+$/.test(limit)) throw badRequest('limit param must be an integer');
    if (limit !== undefined && Number(limit) < 1) throw badRequest('limit param must be positive');
    const sortDir = queryText(query, 'sort_dir');
    if (sortDir !== undefined && !['asc', 'desc'].includes(sortDir))
      throw badRequest(`Invalid sort direction: ${sortDir.slice(0, 32)}`);
    const sortKey = queryText(query, 'sort_key');
    if (sortKey !== undefined && !SORT_KEYS.includes(sortKey))
      throw badRequest(
        `Invalid sort key: ${sortKey.slice(0, 32)}. It must be one of the following: ${SORT_KEYS.join(', ')}.`,
      );
    const visibility = queryText(query, 'visibility');
    if (visibility !== undefined && !VISIBILITIES.includes(visibility))
      throw badRequest(`Invalid visibility value: ${visibility.slice(0, 32)}`);
    const search = new URLSearchParams(
      Object.entries(query).flatMap(([key, value]): [string, string][] =>
        typeof value === 'string' ? [[key, value]] : [],
      ),
    ).toString();
    return {
      namespaces: [],
      first: `/v2/metadefs/namespaces${search ? `?${search}` : ''}`,
      schema: '/v2/schemas/metadefs/namespaces',
    };
  }

  @Get('v2/metadefs/namespaces/:namespace')
  @Policy('get_metadef_namespace', 'reader', { allowService: true })
  show(@Param('namespace') namespace: string): never {
    throw notFound(`Metadata definition namespace=${namespace.slice(0, 80)} was not found.`);
  }
}
