/**
 * The scheduler's options, read once from the environment into a validated class; a bad value
 * stops start-up with the list of what is wrong. `--help` prints SCHEDULER_OPTIONS.
 */
import { Expose, Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, Max, Min } from 'class-validator';

import {
  CommaList,
  EVENTSTORE_URL_OPTION,
  EventStoreUrl,
  NATS_URL_OPTION,
  NatsUrl,
  type OptionDoc,
  PortOption,
} from '#libs/config';

import { FILTER_NAMES } from './filters/index.js';

export class SchedulerConfig {
  @EventStoreUrl()
  eventStoreUrl = 'esdb://127.0.0.1:2113?tls=false';

  @NatsUrl()
  natsUrl = 'nats://127.0.0.1:4222';

  @Expose({ name: 'NIMBUS_SCHEDULER_FILTERS' })
  @CommaList()
  @IsIn(FILTER_NAMES, { each: true })
  filters: string[] = [...FILTER_NAMES];

  @Expose({ name: 'NIMBUS_SCHEDULER_RAM_WEIGHT_MULTIPLIER' })
  @Type(() => Number)
  @IsNumber()
  ramWeightMultiplier = 1;

  @Expose({ name: 'NIMBUS_SCHEDULER_CPU_WEIGHT_MULTIPLIER' })
  @Type(() => Number)
  @IsNumber()
  cpuWeightMultiplier = 1;

  @Expose({ name: 'NIMBUS_SCHEDULER_MAX_ATTEMPTS' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  maxAttempts = 3;

  @Expose({ name: 'NIMBUS_SCHEDULER_HEARTBEAT_TIMEOUT_MS' })
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  heartbeatTimeoutMs = 10_000;

  @Expose({ name: 'NIMBUS_SCHEDULER_RECONCILE_INTERVAL_MS' })
  @Type(() => Number)
  @IsInt()
  @Min(100)
  reconcileIntervalMs = 2_000;

  @Expose({ name: 'NIMBUS_SCHEDULER_RELAY' })
  @IsIn(['on', 'off'])
  relay: 'on' | 'off' = 'on';

  @PortOption('NIMBUS_SCHEDULER_HEALTH_PORT')
  healthPort = 0;
}

export const SCHEDULER_OPTIONS: readonly OptionDoc[] = [
  EVENTSTORE_URL_OPTION,
  NATS_URL_OPTION,
  {
    name: 'NIMBUS_SCHEDULER_FILTERS',
    description: 'enabled filters, comma-separated, in this order',
    default: 'all',
    allowed: FILTER_NAMES.join(', '),
  },
  {
    name: 'NIMBUS_SCHEDULER_RAM_WEIGHT_MULTIPLIER',
    description: 'RAMWeigher multiplier: positive spreads, negative stacks, 0 ignores',
    default: '1',
  },
  {
    name: 'NIMBUS_SCHEDULER_CPU_WEIGHT_MULTIPLIER',
    description: 'CPUWeigher multiplier: positive spreads, negative stacks, 0 ignores',
    default: '1',
  },
  {
    name: 'NIMBUS_SCHEDULER_MAX_ATTEMPTS',
    description: 'build attempts before ERROR',
    default: '3',
    allowed: '1-10',
  },
  {
    name: 'NIMBUS_SCHEDULER_HEARTBEAT_TIMEOUT_MS',
    description: 'a compute agent silent this long is down',
    default: '10000',
  },
  {
    name: 'NIMBUS_SCHEDULER_RECONCILE_INTERVAL_MS',
    description: 'how often scheduling work the bus did not deliver is looked for',
    default: '2000',
  },
  {
    name: 'NIMBUS_SCHEDULER_RELAY',
    description: 'run the relay from the event store to JetStream in this process',
    default: 'on',
    allowed: 'on, off',
  },
  {
    name: 'NIMBUS_SCHEDULER_HEALTH_PORT',
    description: 'loopback port of GET /healthz; 0 picks one',
    default: '0',
  },
];
