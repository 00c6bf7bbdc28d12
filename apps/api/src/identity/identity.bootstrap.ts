/**
 * Creates, at every start and idempotently, what the configuration promises: the admin project and user
 * (role admin), and the service project and user (role service) that other Nimbus services authenticate
 * as, e.g. the compute agent fetching image data. A changed configured password replaces the stored one.
 * Must never log a password.
 */
import { randomUUID } from 'node:crypto';

import { Inject, Injectable, Logger } from '@nestjs/common';

import type { EventContext } from '#libs/event-store';

import type { ApiConfig } from '../config/api.config.js';
import { API_CONFIG } from '../common/store/tokens.js';
import { IdentityService } from './identity.service.js';

/** The actor of events the API decides on its own behalf (bootstrap and seeds). */
export const bootstrapContext = (): EventContext => ({
  correlationId: `req-${randomUUID()}`,
  causationId: null,
  actor: { userId: 'nimbus-api', projectId: null, kind: 'service' },
});

@Injectable()
export class IdentityBootstrap {
  private readonly logger = new Logger(IdentityBootstrap.name);

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly identity: IdentityService,
  ) {}

  /** The admin project's id (the owner of seeded images). */
  async run(): Promise<string> {
    const context = bootstrapContext();
    const adminProject = await this.identity.ensureProject(
      this.config.adminProject,
      'Bootstrap project for initializing the cloud.',
      context,
    );
    if (this.config.adminPassword !== undefined) {
      const adminId = await this.identity.ensureUser(
        this.config.adminUser,
        this.config.adminPassword,
        adminProject,
        context,
      );
      await this.identity.assignRole(adminId, adminProject, 'admin', context);
      this.logger.log(`admin user ${this.config.adminUser} on project ${this.config.adminProject} is ready`);
    } else {
      this.logger.warn('NIMBUS_API_ADMIN_PASSWORD is unset: no admin user was bootstrapped');
    }
    if (this.config.servicePassword !== undefined) {
      const serviceProject = await this.identity.ensureProject(
        this.config.serviceProject,
        'Nimbus services',
        context,
      );
      const serviceId = await this.identity.ensureUser(
        this.config.serviceUser,
        this.config.servicePassword,
        serviceProject,
        context,
      );
      await this.identity.assignRole(serviceId, serviceProject, 'service', context);
    }
    return adminProject;
  }
}
