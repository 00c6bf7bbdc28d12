/**
 * Plain HTTP requests to the browser-facing listener: GET and HEAD of the assets table (the console
 * page and the noVNC modules), with conditional GETs by ETag; everything else is 404 or 405.
 * Must never echo or log the request URL (the page's query holds the token), and never look at the
 * file system: paths are only ever keys of the in-memory table.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { AssetTable } from './assets.js';
import { assetHeaders, type HeaderOptions, securityHeaders } from './headers.js';

export function staticHandler(
  assets: AssetTable,
  options: HeaderOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const plain = (
    response: ServerResponse,
    status: number,
    text: string,
    extra: Record<string, string> = {},
  ) => {
    response.writeHead(status, {
      ...securityHeaders(options),
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
      ...extra,
    });
    response.end(`${text}\n`);
  };
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      plain(response, 405, 'method not allowed', { Allow: 'GET, HEAD' });
      return;
    }
    const query = (request.url ?? '/').indexOf('?');
    const pathname = query < 0 ? (request.url ?? '/') : (request.url ?? '/').slice(0, query);
    const asset = assets.get(pathname);
    if (!asset) {
      plain(response, 404, 'not found');
      return;
    }
    const headers = assetHeaders(asset.kind, { length: asset.body.length, etag: asset.etag }, options);
    if (asset.kind !== 'page' && request.headers['if-none-match'] === asset.etag) {
      const { 'Content-Length': _length, ...unchanged } = headers;
      response.writeHead(304, unchanged);
      response.end();
      return;
    }
    response.writeHead(200, headers);
    response.end(request.method === 'HEAD' ? undefined : asset.body);
  };
}
