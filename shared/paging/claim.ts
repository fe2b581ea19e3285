import type { SharedConfig } from '#shared/config.ts';
import type { PageChannel } from '#shared/domain/channels.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import type { Outcome } from '#shared/domain/outcome.ts';
import type { Severity } from '#shared/domain/severity.ts';
import type { ExecutionContext } from '#shared/executors/types.ts';

/**
 * The one page executor (shared/executors/page.ts) sends every page the same way: claim, render,
 * publish to each channel, record. What differs between functions is only what a page is claimed on
 * (an incident's window, its resolve, an anomaly's impact, a runbook execution's result): a
 * `PageClaim` says that, so the sending (channels, partial failures, page ids) cannot drift apart.
 */
export interface PageClaim<I extends PageIntent = PageIntent, C extends SharedConfig = SharedConfig> {
  /** What is claimed, for errors: `the incident notice for <key>`. */
  describe(intent: I): string;
  /** Claims the notice in the state table: send it (and how), or the outcome of not sending it. */
  claim(intent: I, ctx: ExecutionContext<C>): Promise<Claimed<I>>;
  /** Records that the claimed notice went out; must not throw (the page is out either way). */
  markSent(intent: I, claimed: SendClaim<I>): Promise<void>;
  /** Undoes the claim of a notice no channel got, so whichever delivery comes next can send it. */
  release(intent: I, claimed: SendClaim<I>): Promise<void>;
}

/** A claim that won: the page to send and what the page says about its incident. */
export interface SendClaim<I extends PageIntent = PageIntent> {
  send: true;
  pageId: string;
  repeats: number;
  /** What the done outcome says it did: `paged`, `sent resolve notice`, `escalated`. */
  verb: string;
  resolvesPageId?: string;
  reopened?: boolean;
  incidentSeverity?: Severity;
  /** The intent as the claim found it to be (an anomaly's update wording); the planned one otherwise. */
  intent?: I;
  /** Message attributes beside the page's own, that subscribers group notices by. */
  attributes?: Record<string, string>;
  /** The channels this notice goes to, when not every one (an update opens no pager alert). */
  channels?: (channel: PageChannel) => boolean;
}

export type Claimed<I extends PageIntent = PageIntent> = SendClaim<I> | { send: false; outcome: Outcome };
