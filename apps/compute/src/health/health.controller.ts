/** `GET /healthz` (loopback by default): the agent is up and its hosts are registered. */
import { Controller, Get, HttpException, HttpStatus } from '@nestjs/common';

import { ComputeRuntime } from '../compute.runtime.js';

@Controller()
export class HealthController {
  constructor(private readonly runtime: ComputeRuntime) {}

  @Get('healthz')
  health(): Record<string, unknown> {
    const status = this.runtime.status();
    if (!status.ready)
      throw new HttpException({ status: 'starting', ...status }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ok', ...status };
  }
}
