/**
 * NATS's own authorization for a Nimbus bus (decentralized JWT auth): an operator, the system account,
 * and the `NIMBUS` account whose JetStream holds every Nimbus stream. Services connect as the account's
 * service user; the API holds only a signing key of the account, with which it mints short-lived users
 * whose permissions name one audit consumer (see apps/api's audit subscriptions). The server checks
 * every signature, permission and expiry itself; nothing here trusts a client's good will.
 * Must never write a seed anywhere but the files its caller names, and never log one.
 */
import {
  type OperatorLimits,
  type User,
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  fromSeed,
} from '@nats-io/jwt';

/** Everything `nats-server` and Nimbus's processes need to run the bus under operator mode. */
export interface NatsAccounts {
  readonly operatorJwt: string;
  readonly systemAccount: { readonly publicKey: string; readonly jwt: string };
  readonly account: { readonly publicKey: string; readonly jwt: string };
  /** The seed of the account's signing key: what the API mints audit users with. Secret. */
  readonly signingSeed: string;
  /** A creds file (JWT and seed) for Nimbus's services: every subject of the account. Secret. */
  readonly serviceCreds: string;
}

export const NIMBUS_ACCOUNT = 'NIMBUS';

/**
 * A claim's limits replace the server's defaults as a whole, so each is spelled out: no caps on
 * connections, subscriptions or JetStream (the machine's own limits apply), and no bearer tokens.
 */
const ACCOUNT_LIMITS: OperatorLimits = {
  conn: -1,
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  leaf: -1,
  wildcards: true,
  disallow_bearer: true,
  mem_storage: -1,
  disk_storage: -1,
  streams: -1,
  consumer: -1,
};

/** Makes a fresh operator, system account, `NIMBUS` account (JetStream on) and service user. */
export async function createNatsAccounts(): Promise<NatsAccounts> {
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const signing = createAccount();
  const operatorJwt = await encodeOperator('nimbus', operator, {
    system_account: system.getPublicKey(),
  });
  const systemJwt = await encodeAccount('SYS', system, {}, { signer: operator });
  const accountJwt = await encodeAccount(
    NIMBUS_ACCOUNT,
    account,
    { limits: ACCOUNT_LIMITS, signing_keys: [signing.getPublicKey()] },
    { signer: operator },
  );
  const service = createUser();
  const serviceJwt = await encodeUser('nimbus-services', service, account);
  return {
    operatorJwt,
    systemAccount: { publicKey: system.getPublicKey(), jwt: systemJwt },
    account: { publicKey: account.getPublicKey(), jwt: accountJwt },
    signingSeed: new TextDecoder().decode(signing.getSeed()),
    serviceCreds: new TextDecoder().decode(fmtCreds(serviceJwt, service)),
  };
}

/**
 * The lines of a `nats-server` configuration that turn operator mode on with the accounts preloaded
 * (a memory resolver: accounts never change while the server runs; users are never listed, since their
 * JWTs carry their own signed permissions).
 */
export function operatorModeConfig(accounts: NatsAccounts): string[] {
  return [
    `operator: ${accounts.operatorJwt}`,
    `system_account: ${accounts.systemAccount.publicKey}`,
    'resolver: MEMORY',
    'resolver_preload: {',
    `  ${accounts.systemAccount.publicKey}: ${accounts.systemAccount.jwt}`,
    `  ${accounts.account.publicKey}: ${accounts.account.jwt}`,
    '}',
  ];
}

export interface UserGrant {
  /** The user's name, as the server shows it in its connection reports. */
  readonly name: string;
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /** The user stops working then: the server refuses it and closes its connections. */
  readonly expiresAt: Date;
}

/** A creds file for a user of the `NIMBUS` account allowed exactly `grant`, signed with the signing key. */
export async function mintUserCreds(
  signingSeed: string,
  accountPublicKey: string,
  grant: UserGrant,
): Promise<string> {
  const signer = fromSeed(new TextEncoder().encode(signingSeed));
  const user = createUser();
  const permissions: Partial<User> = {
    pub: { allow: [...grant.publish] },
    sub: { allow: [...grant.subscribe] },
  };
  const jwt = await encodeUser(grant.name, user, accountPublicKey, permissions, {
    signer,
    exp: Math.floor(grant.expiresAt.getTime() / 1000),
  });
  return new TextDecoder().decode(fmtCreds(jwt, user));
}
