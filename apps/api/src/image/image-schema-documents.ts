/**
 * `GET /v2/schemas/image` and `/v2/schemas/images`: the JSON Schemas Glance publishes for its image
 * document and list page, which clients (glanceclient, the dashboard) read to tell an image's own
 * attributes from its extra properties. Built from the schema Nimbus validates creates with, plus the
 * attributes only the service sets, so the published schema and the enforced one cannot drift apart.
 */
import type { Schema } from '../common/validation/schema.js';
import { CREATE_IMAGE } from './image.schemas.js';

const READ_ONLY: Readonly<Record<string, Schema>> = {
  // The statuses an image here goes through (ImageStatus).
  status: { type: 'string', enum: ['queued', 'saving', 'active', 'deleted'] },
  checksum: { type: ['null', 'string'], maxLength: 32 },
  os_hash_algo: { type: ['null', 'string'], maxLength: 64 },
  os_hash_value: { type: ['null', 'string'], maxLength: 128 },
  size: { type: ['null', 'integer'] },
  virtual_size: { type: ['null', 'integer'] },
  created_at: { type: 'string' },
  updated_at: { type: 'string' },
  self: { type: 'string' },
  file: { type: 'string' },
  schema: { type: 'string' },
};

export function imageSchemaDocument(): Record<string, unknown> {
  const writable = CREATE_IMAGE.properties ?? {};
  return {
    name: 'image',
    properties: {
      ...writable,
      ...Object.fromEntries(
        Object.entries(READ_ONLY).map(([name, schema]) => [name, { ...schema, readOnly: true }]),
      ),
    },
    additionalProperties: { type: 'string' },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

export function imagesSchemaDocument(): Record<string, unknown> {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchemaDocument() },
      schema: { type: 'string' },
      first: { type: 'string' },
      next: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}
