/**
 * The scheduler's fast path: every instance event that may mean scheduling work (a boot, a failed
 * build, a delete, the end of a build) drives that instance. The handler decides nothing itself;
 * `drive` folds the stream and does what is due, so a redelivered message is harmless.
 */
import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';

import { type BusEvent, OnEvent } from '#libs/bus';
import {
  BootRequested,
  DeleteRequested,
  DomainDeleted,
  DomainStartFailed,
  HostSelected,
  InstanceFailed,
} from '#libs/contracts';

import { SchedulerService } from '../placement/scheduler.service.js';

type InstanceScoped = BusEvent<{ readonly instanceId: string }>;

@Controller()
export class InstanceEventsController {
  constructor(private readonly scheduler: SchedulerService) {}

  @OnEvent(BootRequested)
  async onBootRequested(@Payload() event: InstanceScoped): Promise<void> {
    await this.scheduler.drive(event.data.instanceId);
  }

  @OnEvent(DomainStartFailed)
  async onDomainStartFailed(@Payload() event: InstanceScoped): Promise<void> {
    await this.scheduler.drive(event.data.instanceId);
  }

  @OnEvent(DeleteRequested)
  async onDeleteRequested(@Payload() event: InstanceScoped): Promise<void> {
    await this.scheduler.drive(event.data.instanceId);
  }

  /** Claims end with the instance: released once its domain is gone or its build gave up. */
  @OnEvent(DomainDeleted)
  async onDomainDeleted(@Payload() event: InstanceScoped): Promise<void> {
    await this.scheduler.drive(event.data.instanceId);
  }

  @OnEvent(InstanceFailed)
  async onInstanceFailed(@Payload() event: InstanceScoped): Promise<void> {
    await this.scheduler.drive(event.data.instanceId);
  }

  /** A lost race for the same attempt leaves a claim elsewhere; drive releases it. */
  @OnEvent(HostSelected)
  async onHostSelected(@Payload() event: InstanceScoped): Promise<void> {
    await this.scheduler.drive(event.data.instanceId);
  }
}
