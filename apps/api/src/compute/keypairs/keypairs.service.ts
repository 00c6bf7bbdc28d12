/**
 * Key pairs, per user as in Nova: create (a generated ed25519 pair, or an imported public key), list, show
 * and delete, each on the user's `keypair-<user id>` stream, bounded by the key_pairs quota.
 * Must never store, log or return twice a generated private key.
 */
import { Inject, Injectable } from '@nestjs/common';

import { KEYPAIR_TYPES, type KeypairType, streamFor } from '#libs/contracts';
import {
  type Keypair,
  KeypairNotFound,
  decideCreateKeypair,
  decideDeleteKeypair,
  keypairsReducer,
} from '#libs/domain';
import { EventStore, type EventContext } from '#libs/event-store';

import { badRequest } from '../../common/http/api-error.js';
import { CLOCK, type Clock } from '../../common/store/tokens.js';
import { QuotasService } from '../quotas/quotas.service.js';
import { generateEd25519, parsePublicKey } from './ssh-keys.js';
import { generateX509, parseCertificate } from './x509-keys.js';

export interface CreatedKeypair extends Keypair {
  readonly userId: string;
  /** Only for a generated pair, returned once. */
  readonly privateKey?: string;
}

@Injectable()
export class KeypairsService {
  constructor(
    private readonly store: EventStore,
    private readonly quotas: QuotasService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(userId: string): Promise<readonly Keypair[]> {
    const { state } = await this.store.fold(streamFor('keypair', userId), keypairsReducer);
    return [...state.keypairs].sort((a, b) => a.name.localeCompare(b.name));
  }

  async show(userId: string, name: string): Promise<Keypair> {
    const keypair = (await this.list(userId)).find((candidate) => candidate.name === name);
    if (!keypair) throw new KeypairNotFound(name, userId);
    return keypair;
  }

  /** The key pair a boot names, if the user has it (Nova's "Invalid key_name provided." otherwise). */
  async resolveForBoot(userId: string, name: string): Promise<Keypair> {
    const keypair = (await this.list(userId)).find((candidate) => candidate.name === name);
    if (!keypair) throw badRequest('Invalid key_name provided.');
    return keypair;
  }

  async create(
    userId: string,
    projectId: string,
    request: { readonly name: string; readonly publicKey?: string; readonly type?: KeypairType },
    context: EventContext,
  ): Promise<CreatedKeypair> {
    const type = request.type ?? 'ssh';
    if (!KEYPAIR_TYPES.includes(type))
      throw badRequest(`Keypair data is invalid: Specified Keypair type '${type}' is invalid`);
    let material: { publicKey: string; fingerprint: string; privateKey?: string };
    if (request.publicKey !== undefined) {
      const parsed = type === 'ssh' ? parsePublicKey(request.publicKey) : parseCertificate(request.publicKey);
      if (!parsed) throw badRequest('Keypair data is invalid: failed to generate fingerprint');
      material = parsed;
    } else {
      material =
        type === 'ssh' ? generateEd25519('Generated-by-Nimbus') : await generateX509(userId, projectId);
    }
    const limit = this.quotas.limitsFor(projectId).keyPairs;
    await this.store.execute(
      streamFor('keypair', userId),
      keypairsReducer,
      (current) =>
        decideCreateKeypair(
          current,
          {
            userId,
            name: request.name,
            type,
            publicKey: material.publicKey,
            fingerprint: material.fingerprint,
          },
          limit,
        ),
      context,
    );
    return {
      userId,
      name: request.name,
      type,
      publicKey: material.publicKey,
      fingerprint: material.fingerprint,
      createdAt: this.clock().toISOString(),
      ...(material.privateKey === undefined ? {} : { privateKey: material.privateKey }),
    };
  }

  async delete(userId: string, name: string, context: EventContext): Promise<void> {
    await this.store.execute(
      streamFor('keypair', userId),
      keypairsReducer,
      (state) => decideDeleteKeypair(state, userId, name),
      context,
    );
  }
}
