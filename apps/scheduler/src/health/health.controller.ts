/** `GET /healthz` (loopback by default): the scheduler is up, its view of the cluster is current. */
import { Controller, Get, HttpException, HttpStatus } from '@nestjs/common';

import { SchedulerRuntime } from '../scheduler.runtime.js';

@Controller()
export class HealthController {
  constructor(private readonly runtime: SchedulerRuntime) {}

  @Get('healthz')
  health(): Record<string, unknown> {
    const status = this.runtime.status();
    if (!status.ready)
      throw new HttpException({ status: 'starting', ...status }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ok', ...status };
  }
}
