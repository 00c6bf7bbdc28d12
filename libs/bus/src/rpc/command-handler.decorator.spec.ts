import { AuthorizeConsole, BootServer, GetConsoleOutput } from '#libs/contracts';

import { CommandHandler, commandPattern, parseComputePattern } from './command-handler.decorator.js';

describe(commandPattern.name, () => {
  it('gives compute commands a host wildcard the command server fills in per host', () => {
    expect(commandPattern(AuthorizeConsole)).toBe('nimbus.cmd.compute.*.AuthorizeConsole');
    expect(parseComputePattern(commandPattern(GetConsoleOutput))).toEqual({ name: 'GetConsoleOutput' });
  });

  it('gives other commands their one subject', () => {
    expect(commandPattern(BootServer)).toBe('nimbus.cmd.api.BootServer');
    expect(parseComputePattern('nimbus.cmd.api.BootServer')).toBeNull();
  });
});

describe(CommandHandler.name, () => {
  it('refuses a command without a reply: it is decided in-process, not sent over NATS', () => {
    expect(() => CommandHandler(BootServer)).toThrow(/declares no reply/);
  });
});
