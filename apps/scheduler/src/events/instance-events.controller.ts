/**
 * The scheduler's fast path: every instance event that may mean scheduling work (a boot, a failed
 * build, a delete, the end of a build, a resize and its end) drives that instance. The handler decides nothing itself;
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
  ResizeConfirmed,
  ResizeFailed,
  ResizeRequested,
  ResizeReverted,
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

  /** A resize first needs room on the server's host for the larger flavor. */
  @OnEvent(ResizeRequested)
  async onResizeRequested(@Payload() event: InstanceScoped): Promise<void> {
    await this.scheduler.drive(event.data.instanceId);
  }

  /** Once the user kept one flavor, or the resize did not happen, the claim shrinks to that flavor. */
  @OnEvent(ResizeConfirmed)
  async onResizeConfirmed(@Payload() event: InstanceScoped): Promise<void> {
    await this.scheduler.drive(event.data.instanceId);
  }

  @OnEvent(ResizeReverted)
  async onResizeReverted(@Payload() event: InstanceScoped): Promise<void> {
    await this.scheduler.drive(event.data.instanceId);
  }

  @OnEvent(ResizeFailed)
  async onResizeFailed(@Payload() event: InstanceScoped): Promise<void> {
    await this.scheduler.drive(event.data.instanceId);
  }
}
