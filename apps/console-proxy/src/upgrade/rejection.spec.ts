import { refusalResponse } from './rejection.js';

describe(refusalResponse.name, () => {
  it('is a complete HTTP response with the status, a short reason, and the connection closed', () => {
    const response = refusalResponse(401, 'token expired');
    const [head, body] = response.split('\r\n\r\n');
    expect(head!.split('\r\n')).toEqual([
      'HTTP/1.1 401 Unauthorized',
      'Connection: close',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Length: 14',
      'Cache-Control: no-store',
      'X-Content-Type-Options: nosniff',
    ]);
    expect(body).toBe('token expired\n');
  });

  it('counts the body in bytes', () => {
    expect(refusalResponse(403, 'origin not allowed ✗')).toContain('Content-Length: 23');
  });
});
