/**
 * Ringside Chat: an embeddable AI chat widget that talks to the Ringside
 * gateway straight from the browser, with a short-lived Client Token from
 * your server's token endpoint.
 */

/** Texts the widget shows; every one can be replaced. */
export interface ChatStrings {
  openChat?: string;
  closeChat?: string;
  /** `{n}` is the count. */
  unread?: string;
  send?: string;
  stop?: string;
  /** The message box's label. */
  message?: string;
  newConversation?: string;
  close?: string;
  copyMessage?: string;
  copy?: string;
  copied?: string;
  regenerate?: string;
  regenerateAnswer?: string;
  retry?: string;
  notSent?: string;
  stopped?: string;
  typing?: string;
  jumpToLatest?: string;
  you?: string;
  assistant?: string;
  empty?: string;
  /** `{n}` is the length, `{max}` the limit. */
  tooLong?: string;
  busy?: string;
  /** `{n}` is the seconds left. */
  cooldown?: string;
  unavailable?: string;
  outOfCredit?: string;
  network?: string;
  interrupted?: string;
  stalled?: string;
  closedDuring?: string;
  rateLimited?: string;
  serverError?: string;
  failed?: string;
  /** Continue an answer that broke off. */
  continue?: string;
  /** An answer cut by leaving the page. */
  navigated?: string;
  /** An answer streaming in another tab. */
  elsewhere?: string;
  helpful?: string;
  notHelpful?: string;
  /** The optional reason after a rating. */
  feedbackReason?: string;
  thanks?: string;
  /** The list of past conversations (`persist: "server"`). */
  history?: string;
  noHistory?: string;
  historyFailed?: string;
  loading?: string;
  backToChat?: string;
}

/** Options of a widget. The same names work as `data-*` attributes of the script tag and as attributes of `<ringside-chat>` (kebab-case there). */
export interface ChatOptions {
  /** Your server's token route, POSTed to for a Client Token: a path of this site or an https URL (http only on loopback). Default `/api/chat-token`. Never from untrusted markup. */
  tokenEndpoint?: string;
  /** Cookies on the token request: `same-origin` (default), `include` (token endpoint on another origin), or `omit`. */
  tokenCredentials?: "same-origin" | "include" | "omit";
  /** Extra headers for the token request, e.g. your CSRF token. */
  tokenHeaders?: Record<string, string>;
  /** The Ringside gateway (https; http only on loopback), used only when the token endpoint names none. Default `https://api.fightclub.pro`. */
  apiBase?: string;
  /** The model. Default `fc:openai/gpt-4o-mini`. */
  model?: string;
  /** The panel's title; also the dialog's accessible name. */
  title?: string;
  /** Shown while the conversation is empty. */
  welcome?: string;
  /** Questions offered while the conversation is empty (a `|`-separated string in attributes). */
  suggestions?: string[] | string;
  /** The message box's placeholder. */
  placeholder?: string;
  /** `light` (default), `dark`, or `auto` (follows the visitor's system). */
  theme?: "light" | "dark" | "auto";
  /** The corner of the floating launcher: `right` (default) or `left`. */
  position?: "right" | "left";
  /** Where the conversation is kept: `session` (default), `local` (shared by the site's tabs), `server` (a Ringside thread of the customer, on every device; the mint needs `--threads`), or `none`. */
  persist?: "session" | "local" | "server" | "none";
  /** Replacements for the widget's texts. */
  strings?: ChatStrings;
  /** Open the panel at once. */
  open?: boolean;
  /** `floating` (launcher + panel, default) or `inline` (fills `container`, always open). */
  mode?: "floating" | "inline";
  /** The element (or a selector of it) an inline widget fills. */
  container?: Element | string;
  /** Where the user is (page, section, plan), sent with each question as quoted data the model is told is not instructions. Prefer your own labels to anything the URL carries. */
  context?: string | Record<string, unknown>;
  /** The longest message accepted, in characters. Default 4000. */
  maxLength?: number;
  /** How many past messages are sent with each question. Default 20. */
  historyLimit?: number;
  /** Shown when the customer is out of credit. */
  outOfCreditMessage?: string;
  /** An answer that sends nothing for this long is interrupted. Default 30000. */
  stallTimeoutMs?: number;
  /** Text direction; default: the page's. */
  dir?: "ltr" | "rtl";
  /** Tells apart the stored conversations of widgets sharing a token endpoint. */
  name?: string;
  /** Where ratings of answers are POSTed (JSON, the `feedback` event's detail): a path of this site or an https URL (http only on loopback). Default: none, the event only. */
  feedbackEndpoint?: string;
  /** The visitor's language (BCP 47), for the widget's texts, numbers and times. Default: the page's `lang`, else the browser's languages. */
  locale?: string;
}

/** A visitor's rating of an answer, or the reason they gave for it. */
export interface ChatFeedback {
  kind: "rating" | "reason";
  rating: "up" | "down";
  /** Empty until the visitor gives one. */
  reason: string;
  /** The question answered. */
  message: string;
  answer: string;
  messageId: string;
  conversationId: string;
}

/** What each event hands to its listeners. */
export interface ChatEvents {
  open: undefined;
  close: undefined;
  /** An answer finished. */
  message: { role: "assistant"; text: string };
  /** Something failed; the panel shows it to the user in plain words. */
  error: string;
  /** A Client Token was fetched. */
  token: undefined;
  /** The visitor rated an answer (also POSTed to `feedbackEndpoint`). */
  feedback: ChatFeedback;
}

/** A mounted widget. */
export interface ChatHandle {
  open(): Promise<void>;
  close(): Promise<void>;
  toggle(): Promise<void>;
  /** Sends `text` as the user's message; `false` if it was refused (the panel says why). */
  send(text: string): Promise<boolean>;
  /** Starts a new conversation. */
  reset(): Promise<void>;
  /** The user signed out: their token, transcript and this widget's stored conversations are forgotten. Call it in your logout code. */
  signOut(): Promise<void>;
  /** Replaces the context sent with each question. */
  setContext(context: string | Record<string, unknown> | null): Promise<void>;
  /** Listens to an event; returns a function that stops listening. */
  on<E extends keyof ChatEvents>(event: E, listener: (detail: ChatEvents[E]) => void): () => void;
  /** Removes the widget: no element, listener or timer stays behind. */
  destroy(): void;
}

/** Mounts a widget. */
export function mount(options?: ChatOptions): Promise<ChatHandle>;

/** For your logout code: every widget forgets its user, and every stored conversation on this origin is removed. */
export function clearAll(): void;

declare const RingsideChat: { mount: typeof mount; clearAll: typeof clearAll };
export default RingsideChat;

declare global {
  interface Window {
    RingsideChat: { mount(options?: ChatOptions): Promise<ChatHandle>; clearAll(): void; version: string };
  }
  interface HTMLElementTagNameMap {
    "ringside-chat": HTMLElement & { ready?: Promise<ChatHandle> };
  }
}
