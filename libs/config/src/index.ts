export { EXIT_CONFIG, configFromCommandLine, type CommandLine } from './command-line.js';
export { ConfigError, loadConfig } from './load-config.js';
export {
  describeConfig,
  documentedOptions,
  optionRows,
  optionsTable,
  optionsTableDrift,
  type OptionRow,
} from './describe-config.js';
export { Option, optionsOf, type OptionDoc, type OptionSpec } from './option.js';
export {
  BooleanOption,
  BusClientOptions,
  ChoiceOption,
  CommaList,
  DEFAULT_EVENTSTORE_URL,
  DEFAULT_NATS_URL,
  EVENTSTORE_URL_PATTERN,
  EventStoreUrl,
  HealthHostOption,
  HealthPortOption,
  HttpUrlListOption,
  HttpUrlOption,
  IntOption,
  JetStreamReplicasOption,
  NATS_URL_PATTERN,
  NatsCreds,
  NatsUrl,
  NumberOption,
  PortOption,
  ProcessIdOption,
  StoreClientOptions,
  defaultProcessId,
} from './options.js';
