/**
 * A minimal OpenStack REST client for what drives a running system from outside (the end-to-end
 * suites, the benchmarks, the chaos run): a Keystone v3 password token, then JSON requests to the
 * compute, image, identity and network APIs with the token and a compute microversion. The real clients (the
 * `openstack` CLI, openstacksdk) have their own suites; this one keeps every reply close to the wire.
 */
export interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export class OpenStackHttp {
  private constructor(
    readonly apiUrl: string,
    readonly token: string,
    /** The project the token is scoped to. */
    readonly projectId: string,
    private readonly microversion: string,
    private readonly timeoutMs: number | undefined,
  ) {}

  /**
   * A project-scoped token. With `timeoutMs`, a request with no reply by then fails with a
   * TimeoutError instead of waiting for as long as the server takes.
   */
  static async login(
    apiUrl: string,
    credentials: { user: string; password: string; project: string },
    microversion = '2.37',
    timeoutMs?: number,
  ): Promise<OpenStackHttp> {
    const response = await fetch(`${apiUrl}/v3/auth/tokens`, {
      ...(timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: { name: credentials.user, domain: { id: 'default' }, password: credentials.password },
            },
          },
          scope: { project: { name: credentials.project, domain: { id: 'default' } } },
        },
      }),
    });
    const token = response.headers.get('x-subject-token');
    const text = await response.text();
    if (response.status !== 201 || !token) throw new Error(`login failed: ${response.status} ${text}`);
    const { token: scoped } = JSON.parse(text) as { token: { project?: { id: string } } };
    return new OpenStackHttp(apiUrl, token, scoped.project?.id ?? '', microversion, timeoutMs);
  }

  compute<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    return this.request<T>(method, `/v2.1${path}`, body);
  }

  image<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    return this.request<T>(method, `/image${path}`, body);
  }

  identity<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    return this.request<T>(method, `/v3${path}`, body);
  }

  network<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    return this.request<T>(method, `/networking/v2.0${path}`, body);
  }

  /** An image's data, sent as Glance takes it: the bytes as they are, `application/octet-stream`. */
  async uploadImage(imageId: string, data: Buffer): Promise<number> {
    const response = await fetch(`${this.apiUrl}/image/v2/images/${imageId}/file`, {
      method: 'PUT',
      headers: { 'X-Auth-Token': this.token, 'Content-Type': 'application/octet-stream' },
      body: data,
      ...(this.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(this.timeoutMs) }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const headers: Record<string, string> = {
      'X-Auth-Token': this.token,
      'OpenStack-API-Version': `compute ${this.microversion}`,
      Accept: 'application/json',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(this.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(this.timeoutMs) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
  }
}
