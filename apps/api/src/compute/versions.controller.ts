/**
 * Version discovery. `GET /v2.1` is Nova's version document. `GET /` lists the compute versions as Nova's
 * root does, plus the identity version Keystone's root would list: one port serves both, and clients'
 * discovery (keystoneauth) picks the entry of the service it looks for from either form.
 */
import { Controller, Get } from '@nestjs/common';

import { Public } from '../common/auth/auth.guard.js';
import { MAX_MICROVERSION, MIN_MICROVERSION } from '../common/http/microversion.js';
import { PublicUrl } from '../common/http/public-url.js';
import { identityVersion } from '../identity/identity.views.js';

@Controller()
export class VersionsController {
  constructor(private readonly publicUrl: PublicUrl) {}

  @Get()
  @Public()
  root(): Record<string, unknown> {
    const base = this.publicUrl.get();
    return {
      versions: [
        {
          id: 'v2.0',
          status: 'SUPPORTED',
          version: '',
          min_version: '',
          updated: '2011-01-21T11:33:21Z',
          links: [{ rel: 'self', href: `${base}/v2/` }],
        },
        this.computeVersion(base, false),
        identityVersion(base),
      ],
    };
  }

  @Get('v2.1')
  @Public()
  compute(): Record<string, unknown> {
    return { version: this.computeVersion(this.publicUrl.get(), true) };
  }

  private computeVersion(base: string, detailed: boolean): Record<string, unknown> {
    return {
      id: 'v2.1',
      status: 'CURRENT',
      version: MAX_MICROVERSION.toString(),
      min_version: MIN_MICROVERSION.toString(),
      updated: '2013-07-23T11:33:21Z',
      links: [
        { rel: 'self', href: `${base}/v2.1/` },
        ...(detailed ? [{ rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' }] : []),
      ],
      ...(detailed
        ? {
            'media-types': [
              { base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' },
            ],
          }
        : {}),
    };
  }
}
