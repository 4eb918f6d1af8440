import type { SendResult } from './mailer.ts';

/** What dispatch-email remembers of a share it emailed: facts only, never the share. */
export interface SentShare {
  eventId: string;
  ceremonyId: string;
  keyId: string;
  shareNumber: number;
  total: number;
  custodian: { name: string; email: string };
  label: string | null;
  locale: 'es' | 'en';
  messageId: string;
  at: number;
}

/** Settings of the ledger. */
export interface LedgerOptions {
  /** How long a sent share, a voided ceremony or a notice is remembered. */
  windowMs: number;
  /** Most entries of each kind kept; the oldest go first. */
  maxEntries: number;
  now?: () => number;
}

/**
 * dispatch-email's memory of what it has done within a window: the share events it emailed (so
 * that a redelivered event sends no second email), the ceremonies voided, and the notices sent.
 * It lives in the process: a restart forgets it, and replicas do not share it.
 */
export class Ledger {
  readonly #sent = new Map<string, SentShare>();
  readonly #sending = new Map<string, Promise<SendResult>>();
  readonly #voided = new Map<string, { reason: string; at: number }>();
  readonly #notices = new Map<string, number>();
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: LedgerOptions) {
    this.#windowMs = options.windowMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** The share an event id was already emailed as, within the window. */
  sent(eventId: string): SentShare | undefined {
    const entry = this.#sent.get(eventId);
    if (entry && this.#now() - entry.at > this.#windowMs) {
      this.#sent.delete(eventId);
      return undefined;
    }
    return entry;
  }

  /**
   * Sends once per event id: a second caller while the first is sending waits for its result
   * instead of sending again.
   */
  async sendOnce(eventId: string, send: () => Promise<SendResult>): Promise<SendResult> {
    const running = this.#sending.get(eventId);
    if (running) return running;
    const task = send().finally(() => this.#sending.delete(eventId));
    this.#sending.set(eventId, task);
    return task;
  }

  /** Records a share as emailed. */
  recordSent(share: Omit<SentShare, 'at'>): void {
    this.#remember(this.#sent, share.eventId, { ...share, at: this.#now() });
  }

  /** Every share of a ceremony emailed within the window. */
  sentOf(ceremonyId: string): SentShare[] {
    const now = this.#now();
    return [...this.#sent.values()].filter(
      (share) => share.ceremonyId === ceremonyId && now - share.at <= this.#windowMs,
    );
  }

  /** Records a ceremony as voided. */
  recordVoided(ceremonyId: string, reason: string): void {
    this.#remember(this.#voided, ceremonyId, { reason, at: this.#now() });
  }

  /** Why a ceremony was voided, if it was within the window. */
  voided(ceremonyId: string): string | undefined {
    const entry = this.#voided.get(ceremonyId);
    return entry && this.#now() - entry.at <= this.#windowMs ? entry.reason : undefined;
  }

  /** True the first time a notice key is claimed within the window, false after. */
  claimNotice(key: string): boolean {
    const at = this.#notices.get(key);
    if (at !== undefined && this.#now() - at <= this.#windowMs) return false;
    this.#remember(this.#notices, key, this.#now());
    return true;
  }

  /** Gives a notice key back, when the notice could not be sent, so that a retry may claim it. */
  releaseNotice(key: string): void {
    this.#notices.delete(key);
  }

  #remember<T>(map: Map<string, T>, key: string, value: T): void {
    map.delete(key);
    map.set(key, value);
    // A Map iterates in insertion order, so the first key is the oldest.
    while (map.size > this.#maxEntries) map.delete(map.keys().next().value!);
  }
}
