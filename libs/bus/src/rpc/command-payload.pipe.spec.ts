import { randomUUID } from 'node:crypto';

import { RpcException } from '@nestjs/microservices';
import { RpcParamtype } from '@nestjs/microservices/enums/rpc-paramtype.enum.js';

import { AuthorizeConsole } from '#libs/contracts';

import { CommandPayloadPipe } from './command-payload.pipe.js';

const pipe = new CommandPayloadPipe(AuthorizeConsole);
// Nest passes the RPC parameter kind as a number; ArgumentMetadata types it as a string.
const payload = { type: RpcParamtype.PAYLOAD as unknown as 'body', metatype: AuthorizeConsole };

describe(CommandPayloadPipe.name, () => {
  it('turns a valid payload into the command class', () => {
    const command = pipe.transform(
      { instanceId: randomUUID(), host: 'hv-01', consoleType: 'novnc' },
      payload,
    );
    expect(command).toBeInstanceOf(AuthorizeConsole);
  });

  it('answers a contract violation with BadRequest naming the property, not the value', () => {
    try {
      pipe.transform({ instanceId: 'SECRET-ish', host: 'hv-01', consoleType: 'novnc' }, payload);
      throw new Error('expected a BadRequest');
    } catch (error) {
      expect(error).toBeInstanceOf(RpcException);
      const body = (error as RpcException).getError() as { code: string; message: string };
      expect(body.code).toBe('BadRequest');
      expect(body.message).toMatch(/instanceId/);
      expect(body.message).not.toMatch(/SECRET-ish/);
    }
  });

  it('leaves other parameters alone', () => {
    const context = { some: 'context' };
    expect(pipe.transform(context, { type: RpcParamtype.CONTEXT as unknown as 'custom' })).toBe(context);
  });

  it('refuses to hand out one field of a command', () => {
    expect(() => pipe.transform({}, { ...payload, data: 'host' })).toThrow(RpcException);
  });
});
