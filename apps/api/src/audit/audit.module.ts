/**
 * The audit feed: every domain event as a CloudEvent, over HTTP, and over NATS (relayed into
 * NIMBUS_AUDIT, with per-consumer credentials) when the API is given NATS and a signing key.
 */
import { Module } from '@nestjs/common';

import { IdentityModule } from '../identity/identity.module.js';

import { AuditController } from './audit.controller.js';
import { AuditFeed } from './audit-feed.service.js';
import { AuditRelay } from './nats/audit-relay.js';
import { AuditSubscriptions } from './nats/audit-subscriptions.js';
import { AuditSubscriptionsController } from './nats/audit-subscriptions.controller.js';
import { ProjectOwners } from './project-owners.js';

@Module({
  imports: [IdentityModule],
  controllers: [AuditController, AuditSubscriptionsController],
  providers: [AuditFeed, ProjectOwners, AuditRelay, AuditSubscriptions],
})
export class AuditModule {}
