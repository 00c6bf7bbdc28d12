/**
 * The agent's fast path: each instance event that may ask something of a host drives that
 * instance. `drive` folds the stream and ignores what is not for this agent's hosts or not due,
 * so every agent may see every event and a redelivery changes nothing.
 */
import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';

import { type BusEvent, OnEvent } from '#libs/bus';
import {
  DeleteRequested,
  HostSelected,
  RebootRequested,
  RebuildRequested,
  ResizeClaimed,
  ResizeRevertRequested,
  SnapshotRequested,
  StartRequested,
  StopRequested,
} from '#libs/contracts';

import { ComputeAgent } from '../agent/compute-agent.js';

type InstanceScoped = BusEvent<{ readonly instanceId: string }>;

@Controller()
export class InstanceEventsController {
  constructor(private readonly agent: ComputeAgent) {}

  @OnEvent(HostSelected)
  async onHostSelected(@Payload() event: BusEvent<HostSelected>): Promise<void> {
    if (this.agent.serves(event.data.host)) await this.agent.drive(event.data.instanceId);
  }

  @OnEvent(StopRequested)
  async onStopRequested(@Payload() event: InstanceScoped): Promise<void> {
    await this.agent.drive(event.data.instanceId);
  }

  @OnEvent(StartRequested)
  async onStartRequested(@Payload() event: InstanceScoped): Promise<void> {
    await this.agent.drive(event.data.instanceId);
  }

  @OnEvent(RebootRequested)
  async onRebootRequested(@Payload() event: InstanceScoped): Promise<void> {
    await this.agent.drive(event.data.instanceId);
  }

  @OnEvent(DeleteRequested)
  async onDeleteRequested(@Payload() event: InstanceScoped): Promise<void> {
    await this.agent.drive(event.data.instanceId);
  }

  @OnEvent(RebuildRequested)
  async onRebuildRequested(@Payload() event: InstanceScoped): Promise<void> {
    await this.agent.drive(event.data.instanceId);
  }

  @OnEvent(SnapshotRequested)
  async onSnapshotRequested(@Payload() event: InstanceScoped): Promise<void> {
    await this.agent.drive(event.data.instanceId);
  }

  /** The scheduler made room for the resize on the host: the domain takes its new size. */
  @OnEvent(ResizeClaimed)
  async onResizeClaimed(@Payload() event: InstanceScoped): Promise<void> {
    await this.agent.drive(event.data.instanceId);
  }

  @OnEvent(ResizeRevertRequested)
  async onResizeRevertRequested(@Payload() event: InstanceScoped): Promise<void> {
    await this.agent.drive(event.data.instanceId);
  }
}
