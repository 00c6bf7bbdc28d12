/**
 * The URL clients reach this API at, for the service catalog, links and `Location` headers. Configured
 * (NIMBUS_API_URL) or learned once the server is bound (port 0 in tests).
 */
import { Injectable } from '@nestjs/common';

@Injectable()
export class PublicUrl {
  private base: string | null = null;

  set(url: string): void {
    this.base = url.replace(/\/+$/, '');
  }

  /** `http://host:port` without a trailing slash. */
  get(): string {
    if (this.base === null) throw new Error('the public URL is not known before the server is bound');
    return this.base;
  }

  get computeUrl(): string {
    return `${this.get()}/v2.1`;
  }

  get identityUrl(): string {
    return `${this.get()}/v3`;
  }
}
