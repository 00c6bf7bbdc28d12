/**
 * The Keystone subset: the `/v3` controllers (tokens and project reads; identity management; application
 * credentials), the identity service (which also validates tokens for every other API, as
 * TOKEN_VALIDATOR), the in-memory directory, and the signing key.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { Module } from '@nestjs/common';

import type { ApiConfig } from '../config/api.config.js';
import { TOKEN_VALIDATOR } from '../common/auth/auth.guard.js';
import { API_CONFIG } from '../common/store/tokens.js';
import { ApplicationCredentialsController } from './application-credentials.controller.js';
import { IdentityAdminController } from './identity-admin.controller.js';
import { IdentityBootstrap } from './identity.bootstrap.js';
import { IdentityController } from './identity.controller.js';
import { IdentityDirectory } from './identity-directory.js';
import { IdentityService, TOKEN_SIGNER } from './identity.service.js';
import { TokenSigner } from './token-signer.js';

/** The configured key, else one generated once into the data folder (readable by its owner only). */
function signingKey(config: ApiConfig): Buffer {
  if (config.tokenSecret !== undefined) return Buffer.from(config.tokenSecret, 'utf8');
  const file = join(config.dataDir, 'token.key');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(48).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
}

@Module({
  controllers: [IdentityController, IdentityAdminController, ApplicationCredentialsController],
  providers: [
    IdentityDirectory,
    IdentityService,
    IdentityBootstrap,
    { provide: TOKEN_VALIDATOR, useExisting: IdentityService },
    {
      provide: TOKEN_SIGNER,
      inject: [API_CONFIG],
      useFactory: (config: ApiConfig) => new TokenSigner(signingKey(config)),
    },
  ],
  exports: [IdentityService, IdentityBootstrap, TOKEN_VALIDATOR],
})
export class IdentityModule {}
