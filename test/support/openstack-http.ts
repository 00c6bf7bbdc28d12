/**
 * A minimal OpenStack REST client for end-to-end tests: a Keystone v3 password token, then JSON
 * requests to the compute and image APIs with the token and a compute microversion. The real
 * clients (the `openstack` CLI, openstacksdk) have their own suites; this one keeps assertions
 * close to the wire.
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
    private readonly microversion: string,
  ) {}

  static async login(
    apiUrl: string,
    credentials: { user: string; password: string; project: string },
    microversion = '2.37',
  ): Promise<OpenStackHttp> {
    const response = await fetch(`${apiUrl}/v3/auth/tokens`, {
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
    if (response.status !== 201 || !token)
      throw new Error(`login failed: ${response.status} ${await response.text()}`);
    return new OpenStackHttp(apiUrl, token, microversion);
  }

  compute<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    return this.request<T>(method, `/v2.1${path}`, body);
  }

  image<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    return this.request<T>(method, `/image${path}`, body);
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
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
  }
}
