import { describe, expect, it } from '@jest/globals';
import {
  AuthorizeConsole,
  BootServer,
  ConsoleAccess,
  ConsoleOutput,
  ContractViolation,
  GetConsoleOutput,
  build,
  decodeCommand,
  decodeEvent,
  decodeReply,
  encodeCommand,
  encodeReply,
} from './index.js';
import { sampleOf } from './testing/samples.js';

const INSTANCE = '5c0b7a2e-8f4d-4b1e-9a3c-2d6e8f1a4b7c';

describe(encodeCommand.name, () => {
  it('returns the validated JSON payload of a command', () => {
    const command = build(AuthorizeConsole, { instanceId: INSTANCE, host: 'hv-01', consoleType: 'novnc' });
    expect(encodeCommand(command)).toEqual({ instanceId: INSTANCE, host: 'hv-01', consoleType: 'novnc' });
  });

  it('refuses an invalid command before it is sent, naming the property', () => {
    const command = build(AuthorizeConsole, {
      instanceId: INSTANCE,
      host: 'hv-01',
      consoleType: 'rdp' as 'novnc',
    });
    expect(() => encodeCommand(command)).toThrow(
      /AuthorizeConsole v1 violates its contract \(encode\):\n {2}- consoleType:/,
    );
  });

  it('refuses an object that is not a registered command', () => {
    expect(() => encodeCommand({ instanceId: INSTANCE })).toThrow(/is not a registered command/);
  });

  it('carries what BootRequested needs: the boot command mirrors the event', () => {
    const { data } = decodeEvent(sampleOf('BootRequested'));
    const command = build(BootServer, data as BootServer);
    expect(encodeCommand(command)).toEqual(sampleOf('BootRequested').data);
  });
});

describe(decodeCommand.name, () => {
  it('returns an instance of the expected class', () => {
    const command = decodeCommand(GetConsoleOutput, { instanceId: INSTANCE, host: 'hv-01', length: 50 });
    expect(command).toBeInstanceOf(GetConsoleOutput);
    expect(command.length).toBe(50);
  });

  it('refuses unknown fields and bad values, naming each', () => {
    let caught: unknown;
    try {
      decodeCommand(GetConsoleOutput, { instanceId: INSTANCE, host: 'hv-01', length: -1, tail: true });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ContractViolation);
    expect((caught as ContractViolation).issues.map((issue) => issue.path).sort()).toEqual([
      'length',
      'tail',
    ]);
  });

  it('refuses a payload that is not a JSON object', () => {
    expect(() => decodeCommand(AuthorizeConsole, 'authorize')).toThrow(/must be a JSON object/);
  });
});

describe('replies', () => {
  it('encode and decode the reply class the command declares', () => {
    const reply = build(ConsoleAccess, {
      consoleType: 'novnc',
      url: 'http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3Dabc',
      expiresAt: '2025-03-14T11:40:00.000Z',
    });
    const decoded = decodeReply(ConsoleAccess, encodeReply(reply));
    expect(decoded).toBeInstanceOf(ConsoleAccess);
    expect(decoded).toEqual(reply);
  });

  it('refuses an invalid reply, naming the reply and its command', () => {
    expect(() => decodeReply(ConsoleOutput, { output: 42 })).toThrow(
      /ConsoleOutput v1 violates its contract \(decode reply to GetConsoleOutput\)/,
    );
  });

  it('refuses a class no command declares as its reply', () => {
    expect(() => decodeReply(BootServer, {})).toThrow(/is not the declared reply of any command/);
  });
});
