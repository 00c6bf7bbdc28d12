export { ConfigError, loadConfig } from './load-config.js';
export { describeConfig, type OptionDoc } from './describe-config.js';
