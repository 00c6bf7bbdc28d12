export { EXIT_CONFIG, configFromCommandLine } from './command-line.js';
export { ConfigError, loadConfig } from './load-config.js';
export { describeConfig, type OptionDoc } from './describe-config.js';
export {
  CommaList,
  EVENTSTORE_URL_OPTION,
  EventStoreUrl,
  NATS_URL_OPTION,
  NatsUrl,
  PortOption,
} from './options.js';
