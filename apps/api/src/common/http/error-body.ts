/**
 * The three OpenStack error bodies: Nova's (and the image API's here) `{"<faultName>": {"code", "message"}}`,
 * Keystone's `{"error": {"code", "message", "title"}}`, which keystonemiddleware also uses for every 401,
 * and Neutron's `{"NeutronError": {"type", "message", "detail"}}`. One function picks the shape per API,
 * so every error a client sees has the shape its library parses.
 */
import type { ApiSurface } from './request-state.js';

/** Nova's fault names by status (nova/api/openstack/wsgi.py `Fault`); anything else is a computeFault. */
const FAULT_NAMES: Readonly<Record<number, string>> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export const faultName = (status: number): string => FAULT_NAMES[status] ?? 'computeFault';

/** Neutron's type for an error it has no more specific name for: webob's exception class. */
const HTTP_TYPES: Readonly<Record<number, string>> = {
  400: 'HTTPBadRequest',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  415: 'HTTPUnsupportedMediaType',
  500: 'HTTPInternalServerError',
  503: 'HTTPServiceUnavailable',
};

export function errorBody(
  surface: ApiSurface,
  status: number,
  message: string,
  type?: string,
): Record<string, unknown> {
  if (surface === 'network' && status !== 401) {
    return { NeutronError: { type: type ?? HTTP_TYPES[status] ?? 'HTTPError', message, detail: '' } };
  }
  if (surface === 'identity' || status === 401) {
    return { error: { code: status, message, title: TITLES[status] ?? 'Error' } };
  }
  return { [faultName(status)]: { code: status, message } };
}
