/**
 * The domain commands the API decides on with more than an instance id: `decideBoot(state, command)` in
 * libs/domain turns BootServer into BootRequested (stop, start, reboot and delete take the id and the
 * reboot type as plain arguments). Their fields are what the API has validated and resolved from the
 * REST request (flavor and image looked up, ids lowercased).
 * Must never carry the requester (actor, request id): those travel beside the command and land in the
 * events' envelope, so one decider serves users and services alike.
 */
import { Command } from '../registry.js';
import { BootFields } from '../events/boot-fields.js';

/** `POST /servers`, after validation and the flavor and image lookups: what BootRequested records. */
@Command({ name: 'BootServer', version: 1, target: 'api' })
export class BootServer extends BootFields {}
