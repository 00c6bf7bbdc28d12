/**
 * The entry points controllers use: check a body or query against its schema and get it back typed, or
 * fail with Nova's 400. Nothing downstream of these runs on input that failed them, so nothing is appended.
 */
import { ApiError } from '../http/api-error.js';
import { type Schema, describeBodyError, describeQueryError, firstError } from './schema.js';

/* eslint-disable @typescript-eslint/no-unnecessary-type-parameters --
   T is the type the caller's schema guarantees; naming it once here is the point of these functions. */

/**
 * Returns the body as T once it matches the schema. T must describe what the schema admits; the cast is
 * the one place where that promise is made.
 */
export function validateBody<T>(schema: Schema, body: unknown): T {
  if (body === undefined || body === null) throw new ApiError(400, 'The request body is missing or empty.');
  const error = firstError(schema, body);
  if (error) throw new ApiError(400, describeBodyError(error));
  return body as T;
}

export function validateQuery<T>(schema: Schema, query: unknown): T {
  const error = firstError(schema, query ?? {});
  if (error) throw new ApiError(400, describeQueryError(error));
  return (query ?? {}) as T;
}
