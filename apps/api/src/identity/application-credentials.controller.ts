/**
 * `/v3/users/{id}/application_credentials`: what automation authenticates with instead of a password
 * (`openstack application credential create | list | show | delete`). A user makes them for itself on
 * the project its token is scoped to; it or an admin may list, read and delete them. Thin: bodies are
 * validated here, everything else is the IdentityService's.
 * Must never show a credential's secret except in the answer that created it.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';

import { Policy } from '../common/auth/auth.guard.js';
import { Ctx, type CallContext } from '../common/http/context.decorator.js';
import { PublicUrl } from '../common/http/public-url.js';
import { eventContextOf } from '../common/http/request-state.js';
import { queryText } from '../common/validation/query.js';
import { validateBody } from '../common/validation/validate.js';
import {
  CREATE_APPLICATION_CREDENTIAL,
  type CreateApplicationCredentialBody,
} from './identity-admin.schema.js';
import { IdentityService } from './identity.service.js';
import { applicationCredentialView } from './identity.views.js';

const ROUTE = 'users/:userId/application_credentials';

@Controller('v3')
export class ApplicationCredentialsController {
  constructor(
    private readonly identity: IdentityService,
    private readonly publicUrl: PublicUrl,
  ) {}

  @Post(ROUTE)
  @HttpCode(201)
  @Policy('identity:create_application_credential', 'reader')
  async create(
    @Ctx() context: CallContext,
    @Param('userId') userId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const request = validateBody<CreateApplicationCredentialBody>(CREATE_APPLICATION_CREDENTIAL, body);
    const { credential, secret } = await this.identity.createApplicationCredential(
      context.principal,
      userId,
      request.application_credential,
      eventContextOf(context.principal, context.requestId),
    );
    return {
      application_credential: applicationCredentialView(credential, userId, this.publicUrl.get(), secret),
    };
  }

  /** The user's credentials, filtered by `name`. */
  @Get(ROUTE)
  @Policy('identity:list_application_credentials', 'reader')
  list(
    @Ctx() context: CallContext,
    @Param('userId') userId: string,
    @Query() query: Record<string, unknown>,
  ): Record<string, unknown> {
    const baseUrl = this.publicUrl.get();
    const name = queryText(query, 'name');
    const credentials = this.identity
      .applicationCredentials(context.principal, userId)
      .filter((credential) => name === undefined || credential.name === name);
    return {
      application_credentials: credentials.map((credential) =>
        applicationCredentialView(credential, userId, baseUrl),
      ),
      links: { self: `${baseUrl}/v3/users/${userId}/application_credentials`, previous: null, next: null },
    };
  }

  @Get(`${ROUTE}/:id`)
  @Policy('identity:get_application_credential', 'reader')
  show(
    @Ctx() context: CallContext,
    @Param('userId') userId: string,
    @Param('id') id: string,
  ): Record<string, unknown> {
    const credential = this.identity.applicationCredential(context.principal, userId, id);
    return { application_credential: applicationCredentialView(credential, userId, this.publicUrl.get()) };
  }

  @Delete(`${ROUTE}/:id`)
  @HttpCode(204)
  @Policy('identity:delete_application_credential', 'reader')
  async delete(
    @Ctx() context: CallContext,
    @Param('userId') userId: string,
    @Param('id') id: string,
  ): Promise<void> {
    await this.identity.deleteApplicationCredential(
      context.principal,
      userId,
      id,
      eventContextOf(context.principal, context.requestId),
    );
  }
}
