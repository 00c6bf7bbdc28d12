/**
 * The scheduler's options, read once from the environment into a validated class; a bad value
 * stops start-up with the list of what is wrong. Each option is declared once with its variable,
 * documentation and default; `--help` and docs/configuration.md derive from the declarations.
 */
import { IsIn } from 'class-validator';

import {
  BusClientOptions,
  ChoiceOption,
  CommaList,
  HealthHostOption,
  HealthPortOption,
  IntOption,
  NumberOption,
  Option,
  ProcessIdOption,
  defaultProcessId,
} from '#libs/config';

import { FILTER_NAMES } from './filters/index.js';

export class SchedulerConfig extends BusClientOptions {
  @Option(
    {
      env: 'NIMBUS_SCHEDULER_FILTERS',
      doc: 'enabled filters, comma-separated, in this order',
      default: 'all',
      allowed: FILTER_NAMES.join(', '),
    },
    CommaList(),
    IsIn(FILTER_NAMES, { each: true }),
  )
  filters: string[] = [...FILTER_NAMES];

  @NumberOption({
    env: 'NIMBUS_SCHEDULER_RAM_WEIGHT_MULTIPLIER',
    doc: 'RAMWeigher multiplier: positive spreads, negative stacks, 0 ignores',
  })
  ramWeightMultiplier = 1;

  @NumberOption({
    env: 'NIMBUS_SCHEDULER_CPU_WEIGHT_MULTIPLIER',
    doc: 'CPUWeigher multiplier: positive spreads, negative stacks, 0 ignores',
  })
  cpuWeightMultiplier = 1;

  @IntOption({ env: 'NIMBUS_SCHEDULER_MAX_ATTEMPTS', doc: 'build attempts before ERROR', min: 1, max: 10 })
  maxAttempts = 3;

  @IntOption({
    env: 'NIMBUS_SCHEDULER_HEARTBEAT_TIMEOUT_MS',
    doc: 'a compute agent silent this long is down',
    min: 1000,
  })
  heartbeatTimeoutMs = 10_000;

  @IntOption({
    env: 'NIMBUS_SCHEDULER_RECONCILE_INTERVAL_MS',
    doc: 'how often scheduling work the bus did not deliver is looked for',
    min: 100,
  })
  reconcileIntervalMs = 2_000;

  @ChoiceOption(
    {
      env: 'NIMBUS_SCHEDULER_RELAY',
      doc: "run the relay from the event store to JetStream in this process, while it holds the relay's lease",
    },
    ['on', 'off'],
  )
  relay: 'on' | 'off' = 'on';

  /** Names this scheduler in the relay's lease and its JetStream consumers' logs. */
  @ProcessIdOption({
    env: 'NIMBUS_SCHEDULER_ID',
    doc: "this scheduler's name, unique among the schedulers: a lowercase DNS label",
    service: 'scheduler',
  })
  schedulerId = defaultProcessId('scheduler');

  @IntOption({
    env: 'NIMBUS_SCHEDULER_RELAY_LEASE_TTL_MS',
    doc: "how long the relay stays this scheduler's without a renewal; another scheduler's relay takes over after that",
    min: 1_000,
    max: 600_000,
  })
  relayLeaseTtlMs = 6_000;

  @HealthHostOption('NIMBUS_SCHEDULER_HEALTH_HOST')
  healthHost = '127.0.0.1';

  @HealthPortOption('NIMBUS_SCHEDULER_HEALTH_PORT')
  healthPort = 0;
}
