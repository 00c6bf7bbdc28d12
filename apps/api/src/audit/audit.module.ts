/** The audit feed: every domain event as a CloudEvent, over HTTP, for the projects a token may read. */
import { Module } from '@nestjs/common';

import { AuditController } from './audit.controller.js';
import { AuditFeed } from './audit-feed.service.js';
import { ProjectOwners } from './project-owners.js';

@Module({
  controllers: [AuditController],
  providers: [AuditFeed, ProjectOwners],
})
export class AuditModule {}
