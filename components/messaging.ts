import * as pulumi from '@pulumi/pulumi';
import * as servicebus from '@pulumi/azure-native/servicebus/index.js';
import { BUILT_IN_ROLES } from './role-definitions.js';
import { grant } from './role-assignment.js';

export interface MessagingArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  namespaceName: pulumi.Input<string>;
  queueName: pulumi.Input<string>;
  lockDurationSeconds: pulumi.Input<number>;
  maxDeliveryCount: pulumi.Input<number>;
  duplicateWindowMinutes: pulumi.Input<number>;
  /** Identities that only send work (the dashboard). */
  senderPrincipalIds: pulumi.Input<string>[];
  /** Identities that only receive or peek (the dashboard's health check peeks). */
  receiverPrincipalIds: pulumi.Input<string>[];
  /**
   * Identities that run a Functions trigger on the queue (the spawner): Azure Service Bus Data
   * Owner, because the Functions scale controller reads the queue's length with them, which
   * needs Manage rights; it also covers send (deferred and watch messages), receive and the
   * dead-letter subqueue. Microsoft's Flex Consumption Service Bus sample grants the same role:
   * https://github.com/Azure-Samples/azure-functions-flex-consumption-samples/blob/main/E2E/SB-VNET/infra/main.bicep
   * and the trigger's documented roles are Data Receiver or Data Owner:
   * https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus#identity-based-connections
   */
  triggerPrincipalIds: pulumi.Input<string>[];
}

/**
 * The work queue: a Service Bus namespace (Standard, for duplicate detection) and one queue
 * with peek-lock, a delivery limit, dead-lettering on expiry and duplicate detection by
 * messageId (the job id). Access is by identity only, at the queue.
 */
export class Messaging extends pulumi.ComponentResource {
  readonly namespaceName: pulumi.Output<string>;
  readonly fullyQualifiedNamespace: pulumi.Output<string>;
  readonly queueName: pulumi.Output<string>;
  readonly queueId: pulumi.Output<string>;
  /** The propagation waits of the queue's grants, in the order of their principal lists (role-assignment.ts). */
  readonly grants: { senders: pulumi.Resource[]; receivers: pulumi.Resource[]; triggers: pulumi.Resource[] };

  constructor(name: string, args: MessagingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('event-driven-aci:messaging:Messaging', name, {}, opts);

    const namespace = new servicebus.Namespace(
      `${name}-namespace`,
      {
        namespaceName: args.namespaceName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: 'Standard', tier: 'Standard' },
        // Identity only: no shared access keys in use anywhere.
        disableLocalAuth: true,
        minimumTlsVersion: '1.2',
      },
      { parent: this },
    );

    const queue = new servicebus.Queue(
      `${name}-queue`,
      {
        queueName: args.queueName,
        namespaceName: namespace.name,
        resourceGroupName: args.resourceGroupName,
        lockDuration: pulumi.output(args.lockDurationSeconds).apply((s) => `PT${s}S`),
        maxDeliveryCount: args.maxDeliveryCount,
        deadLetteringOnMessageExpiration: true,
        requiresDuplicateDetection: true,
        duplicateDetectionHistoryTimeWindow: pulumi.output(args.duplicateWindowMinutes).apply((m) => `PT${m}M`),
        // A task that waits a week for capacity is still not lost.
        defaultMessageTimeToLive: 'P14D',
      },
      { parent: this },
    );

    const access = { scope: queue.id, subscriptionId: args.subscriptionId };
    this.grants = {
      senders: args.senderPrincipalIds.map((principalId, i) =>
        grant(this, `${name}-sender-${i}`, { ...access, principalId, role: BUILT_IN_ROLES.serviceBusDataSender }),
      ),
      receivers: args.receiverPrincipalIds.map((principalId, i) =>
        grant(this, `${name}-receiver-${i}`, { ...access, principalId, role: BUILT_IN_ROLES.serviceBusDataReceiver }),
      ),
      // At the queue, not the namespace (the sample's scope): Manage on this one entity is all the trigger reads.
      triggers: args.triggerPrincipalIds.map((principalId, i) =>
        grant(this, `${name}-trigger-${i}`, { ...access, principalId, role: BUILT_IN_ROLES.serviceBusDataOwner }),
      ),
    };

    this.namespaceName = namespace.name;
    this.fullyQualifiedNamespace = pulumi.interpolate`${namespace.name}.servicebus.windows.net`;
    this.queueName = queue.name;
    this.queueId = queue.id;
    this.registerOutputs({
      namespaceName: this.namespaceName,
      fullyQualifiedNamespace: this.fullyQualifiedNamespace,
      queueName: this.queueName,
      queueId: this.queueId,
    });
  }
}
