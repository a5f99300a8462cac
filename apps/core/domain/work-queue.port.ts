/** What the dashboard sends and the spawner receives: one message per attempt of a job. */
export interface WorkMessageBody {
  jobId: string;
  message: string;
  /** The attempt it starts; 1 when absent (the dashboard's message). */
  attempt?: number;
  /** Set on a work message put off for later: the n-th time, and since when its start waits. */
  deferral?: Deferral;
}

/**
 * One link of an attempt's deferral chain (domain/deferral.ts): its message id is
 * `<jobId>.deferred.<attempt>.<n>`. `since`: when the platform first refused or failed this
 * attempt's start, from which the kind's start wait is counted; absent while the waits were
 * only for the stack's own capacity.
 */
export interface Deferral {
  n: number;
  since?: string;
}

/**
 * A look at one task's container, scheduled by the spawner itself on Azure: the n-th of a
 * chain that ends once the task is settled (so an idle stack runs nothing), or at `until`.
 */
export interface WatchMessageBody {
  type: 'watch';
  jobId: string;
  /** The attempt's container it looks at. */
  containerName: string;
  n: number;
  /** ISO time after which the chain ends whatever the task's state. */
  until: string;
  /** The deferral chain of the work message that started the container, carried on. */
  deferral?: Deferral;
}

/**
 * A dead letter that could not be settled (its store was down), sent again to the work queue
 * as a scheduled copy: a dead letter cannot be dead-lettered again, and its queue has no
 * time-to-live, so retrying it in place would loop hot. `n`: this copy's number; `since`: when
 * the first settle failed (the copies stop 24 hours after).
 */
export interface DeadLetterCopyBody {
  type: 'dead-letter';
  letter: { messageId: string; body: unknown; deliveryCount: number; enqueuedAt: string; reason: string; description: string };
  n: number;
  since: string;
}

type QueueMessageBody = WorkMessageBody | WatchMessageBody | DeadLetterCopyBody;

export interface OutgoingMessage {
  /** Duplicate detection key: the job id (or `<jobId>.watch.<n>`), so a resend inside the window is dropped. */
  messageId: string;
  body: QueueMessageBody;
  /** Deliver no earlier than this (Service Bus scheduled messages). */
  scheduledAt?: Date;
}

export interface ReceivedMessage {
  messageId: string;
  /** Parsed JSON as sent; the spawner validates its shape. */
  body: unknown;
  /** 1 on the first delivery. */
  deliveryCount: number;
  enqueuedAt: Date;
  /** Settles this delivery; opaque to callers. */
  lockToken: string;
}

export interface DeadLetter extends ReceivedMessage {
  reason: string;
  description: string;
  deadLetteredAt: Date;
}

/**
 * A queue with Service Bus semantics: duplicate detection by messageId, peek-lock delivery
 * (a lock that expires makes the message visible again), abandon counts a delivery, and a
 * message past maxDeliveryCount goes to the dead letter queue with a reason.
 */
export interface WorkQueue {
  /** Returns false when the messageId was seen inside the duplicate detection window. */
  send(message: OutgoingMessage): Promise<boolean>;
  receive(maxMessages: number): Promise<ReceivedMessage[]>;
  /** Removes a received message (or a received dead letter). */
  complete(message: ReceivedMessage): Promise<void>;
  /** Releases the lock at once: the message is delivered again (its delivery count is kept). */
  abandon(message: ReceivedMessage): Promise<void>;
  deadLetter(message: ReceivedMessage, reason: string, description: string): Promise<void>;
  /**
   * Receives from the dead letter queue with a lock, like `receive`: `complete` removes a dead
   * letter once the caller has recorded it (the reaper fails its job), so none is lost between.
   */
  receiveDeadLetters(maxMessages: number): Promise<DeadLetter[]>;
  /** Resolves when a message may be ready, or after `timeoutMs` at the latest. */
  waitForMessages(timeoutMs: number): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A queue that says when it dead-letters a message, so the letter's task is settled at once
 * rather than at a sweep's next look (the local queue; on Azure a trigger on the dead letter
 * queue does this).
 */
export interface DeadLetterEvents {
  /** Calls `listener` after each write that dead-lettered something; the returned function stops that. */
  onDeadLetter(listener: () => void): () => void;
}
