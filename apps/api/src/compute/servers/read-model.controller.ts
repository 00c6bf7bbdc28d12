/**
 * Operators' rebuild of the server read model while the API keeps answering:
 * `POST /nimbus/v1/read-models/servers/rebuild` (admin only) answers at once and streams the
 * rebuild's progress as JSON lines (`application/x-ndjson`), the last with `done: true`, or an
 * `error` line if it failed (the live table then stays). `npm run ops -- rebuild servers` calls it.
 */
import { PassThrough } from 'node:stream';

import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { Policy } from '../../common/auth/auth.guard.js';
import { conflict, notFound } from '../../common/http/api-error.js';
import { ServerProjection } from './projection/server-projection.js';

/** The read models an operator may rebuild; the others are rebuilt in memory at every start. */
const REBUILDABLE = ['servers'];

@Controller('nimbus/v1/read-models')
export class ReadModelController {
  constructor(private readonly projection: ServerProjection) {}

  @Post(':name/rebuild')
  @HttpCode(200)
  @Policy('nimbus:read-models:rebuild', 'admin')
  rebuild(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply): PassThrough {
    if (!REBUILDABLE.includes(name))
      throw notFound(`Read model ${name} could not be found; rebuildable: ${REBUILDABLE.join(', ')}.`);
    if (this.projection.isRebuilding()) throw conflict('A rebuild of this read model is under way.');
    const lines = new PassThrough();
    const send = (value: object): void => {
      lines.write(`${JSON.stringify(value)}\n`);
    };
    this.projection.rebuild(send).then(
      () => lines.end(),
      (error: unknown) => {
        send({ error: (error as Error).message });
        lines.end();
      },
    );
    void reply.header('Content-Type', 'application/x-ndjson');
    return lines;
  }
}
