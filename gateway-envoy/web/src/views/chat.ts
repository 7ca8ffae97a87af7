// Conversations and the open thread. Messages are kept per conversation by
// sequence, so the unary send's answer and the live feed's copy of the same
// message show once, and resuming the feed continues from the last sequence.
import { messaging } from "../api";
import { describe } from "../errors";
import { fill, h } from "../dom";
import { nameOf } from "../people";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { MessageKind, PresenceState, type Conversation, type Message, type Position, type Presence } from "../gen/frevix/messaging/v1/messaging_pb";
import type { FeedEvent } from "../live";

const TYPING_EVERY_MS = 3_000;
/** Before any sequence: GetMessages answers the newest page. */
const NEWEST = 1n << 62n;

export class ChatView {
  readonly element: HTMLElement;
  private readonly list = h("ul", { class: "conversations", id: "conversations" });
  private readonly thread = h("ol", { class: "thread", id: "thread", "aria-live": "polite" });
  private readonly heading = h("h3", { id: "thread-title" }, "No conversation open");
  private readonly presenceLine = h("p", { class: "muted presence", id: "presence" });
  private readonly typing = h("p", { class: "muted typing", id: "typing" });
  private readonly presence = new Map<string, Presence>();
  private readonly status = h("p", { class: "status", role: "status" });
  private readonly input = h("textarea", { id: "composer-text", rows: "2", placeholder: "Write a message…", maxlength: "5000", disabled: true }) as HTMLTextAreaElement;
  private readonly conversations = new Map<string, Conversation>();
  private readonly messages = new Map<string, Map<bigint, Message>>();
  private readonly changes = new Map<string, bigint>();
  private active: string | null = null;
  private lastTyping = 0;

  constructor(private readonly me: string) {
    const composer = h("form", { id: "composer", class: "composer" }, this.input, h("button", { type: "submit" }, "Send")) as HTMLFormElement;
    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        void this.send();
      }
    });
    this.input.addEventListener("input", () => this.sendTyping());
    this.element = h(
      "section",
      { class: "card chat", id: "chat" },
      h("h2", {}, "Messages"),
      h("div", { class: "chat-grid" }, this.list, h("div", { class: "pane" }, this.heading, this.presenceLine, this.thread, this.typing, composer, this.status)),
    );
  }

  async load(): Promise<void> {
    const answer = await messaging.listConversations({ page: { pageSize: 50 } });
    for (const c of answer.conversations) this.upsert(c);
    this.renderList();
  }

  /** Where the feed should resume, per conversation. */
  positions(): Omit<Position, "$typeName">[] {
    return [...this.conversations.keys()].map((conversationId) => ({
      conversationId,
      sequence: this.lastSequence(conversationId),
      changeSequence: this.changes.get(conversationId) ?? 0n,
    }));
  }

  async openWith(accountId: string): Promise<void> {
    try {
      const answer = await messaging.openDirectConversation({ accountId });
      if (answer.conversation) {
        this.upsert(answer.conversation);
        this.renderList();
        await this.open(answer.conversation.id);
      }
    } catch (error) {
      this.status.textContent = describe(error);
    }
  }

  handle(event: FeedEvent): void {
    switch (event.case) {
      case "message":
        void this.receive(event.value);
        break;
      case "changed":
        if (event.value.message) this.store(event.value.message);
        this.changes.set(event.value.message?.conversationId ?? "", event.value.changeSequence);
        if (event.value.message?.conversationId === this.active) this.renderThread();
        break;
      case "conversation":
        if (event.value.removed && event.value.conversation) this.conversations.delete(event.value.conversation.id);
        else if (event.value.conversation) this.upsert(event.value.conversation);
        this.renderList();
        break;
      case "presence":
        this.presence.set(event.value.accountId, event.value);
        this.renderPresence();
        break;
      case "typing":
        if (event.value.conversationId === this.active && event.value.accountId !== this.me) {
          void nameOf(event.value.accountId).then((name) => (this.typing.textContent = event.value.typing ? `${name} is typing…` : ""));
        }
        break;
      default:
        break;
    }
  }

  private async receive(message: Message): Promise<void> {
    // The send's answer and the feed may both bring a message, and a resumed
    // feed may repeat one: count and show each sequence once.
    const known = this.messages.get(message.conversationId)?.has(message.sequence) ?? false;
    let conversation = this.conversations.get(message.conversationId);
    if (!conversation) {
      // A conversation someone else just started with us; its unread count
      // already includes this message.
      const answer = await messaging.getConversation({ conversationId: message.conversationId });
      if (answer.conversation) this.upsert(answer.conversation);
      conversation = answer.conversation;
    } else if (!known && message.senderId !== this.me && message.conversationId !== this.active) {
      conversation.unreadCount += 1n;
    }
    this.store(message);
    if (conversation && (!conversation.lastMessage || conversation.lastMessage.sequence <= message.sequence)) {
      conversation.lastMessage = message;
    }
    if (message.conversationId === this.active) {
      if (message.senderId !== this.me) this.typing.textContent = "";
      this.renderThread();
      void this.markRead();
      // Presence shows once both have written: a new message may be what
      // makes it visible.
      if (!known && conversation && this.presenceUnknown(conversation)) void this.loadPresence(conversation);
    }
    this.renderList();
  }

  private othersIn(conversation: Conversation): string[] {
    return conversation.memberIds.filter((id) => id !== this.me);
  }

  private presenceUnknown(conversation: Conversation): boolean {
    return this.othersIn(conversation).some((id) => {
      const p = this.presence.get(id);
      return !p || !shown(p);
    });
  }

  private async loadPresence(conversation: Conversation): Promise<void> {
    const others = this.othersIn(conversation);
    if (others.length > 0) {
      const answer = await messaging.getPresence({ accountIds: others.slice(0, 100) }).catch(() => null);
      for (const p of answer?.presences ?? []) this.presence.set(p.accountId, p);
    }
    this.renderPresence();
  }

  private async open(conversationId: string): Promise<void> {
    this.active = conversationId;
    this.input.disabled = false;
    this.typing.textContent = "";
    const conversation = this.conversations.get(conversationId);
    this.heading.textContent = conversation ? await this.titleOf(conversation) : "Conversation";
    if (conversation) await this.loadPresence(conversation);
    else this.renderPresence();
    const answer = await messaging.getMessages({ conversationId, beforeSequence: NEWEST, limit: 50 });
    for (const m of answer.messages) this.store(m);
    this.renderThread();
    this.renderList();
    await this.markRead();
    this.input.focus();
  }

  private async send(): Promise<void> {
    const text = this.input.value.trim();
    if (!text || !this.active) return;
    this.status.textContent = "";
    try {
      // The same id on a retry: the server keeps one message.
      const answer = await messaging.sendMessage({ conversationId: this.active, text, clientMessageId: crypto.randomUUID() });
      this.input.value = "";
      if (answer.message) void this.receive(answer.message);
    } catch (error) {
      this.status.textContent = describe(error);
    }
  }

  private sendTyping(): void {
    if (!this.active || Date.now() - this.lastTyping < TYPING_EVERY_MS) return;
    this.lastTyping = Date.now();
    void messaging.setTyping({ conversationId: this.active, typing: true }).catch(() => undefined);
  }

  private async markRead(): Promise<void> {
    if (!this.active || document.hidden) return;
    const upTo = this.lastSequence(this.active);
    const conversation = this.conversations.get(this.active);
    if (upTo === 0n || !conversation) return;
    conversation.unreadCount = 0n;
    await messaging.markRead({ conversationId: this.active, upToSequence: upTo }).catch(() => undefined);
  }

  private upsert(conversation: Conversation): void {
    this.conversations.set(conversation.id, conversation);
    if (conversation.lastMessage) this.store(conversation.lastMessage);
  }

  private store(message: Message): void {
    let thread = this.messages.get(message.conversationId);
    if (!thread) this.messages.set(message.conversationId, (thread = new Map()));
    thread.set(message.sequence, message);
  }

  private lastSequence(conversationId: string): bigint {
    let last = 0n;
    for (const sequence of this.messages.get(conversationId)?.keys() ?? []) if (sequence > last) last = sequence;
    return last;
  }

  private async titleOf(conversation: Conversation): Promise<string> {
    if (conversation.title) return conversation.title;
    const others = conversation.memberIds.filter((id) => id !== this.me);
    return (await Promise.all(others.map(nameOf))).join(", ") || "Just you";
  }

  /** "online", or when the other member of a direct conversation was last seen. */
  private renderPresence(): void {
    const conversation = this.conversations.get(this.active ?? "");
    const others = conversation?.memberIds.filter((id) => id !== this.me) ?? [];
    const p = others.length === 1 ? this.presence.get(others[0]) : undefined;
    if (!p || !shown(p)) {
      this.presenceLine.textContent = "";
    } else if (p.state === PresenceState.ONLINE) {
      this.presenceLine.textContent = "online";
    } else {
      const seen = p.lastSeenTime ? timestampDate(p.lastSeenTime).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "";
      this.presenceLine.textContent = seen ? `offline · last seen ${seen}` : "offline";
    }
    this.presenceLine.classList.toggle("online", p?.state === PresenceState.ONLINE);
  }

  private renderList(): void {
    const sorted = [...this.conversations.values()].sort((a, b) => time(b) - time(a));
    fill(this.list, ...(sorted.length === 0 ? [h("li", { class: "muted" }, "No conversations yet. Open a gig and message its seller.")] : []));
    for (const conversation of sorted) {
      const title = h("span", { class: "title" }, "…");
      void this.titleOf(conversation).then((t) => (title.textContent = t));
      const unread = conversation.id !== this.active && conversation.unreadCount > 0n;
      this.list.append(
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: conversation.id === this.active ? "active" : "", onclick: () => void this.open(conversation.id) },
            title,
            unread ? h("span", { class: "badge" }, String(conversation.unreadCount)) : null,
            h("span", { class: "muted preview" }, conversation.lastMessage?.text ?? ""),
          ),
        ),
      );
    }
  }

  private renderThread(): void {
    const thread = [...(this.messages.get(this.active ?? "")?.values() ?? [])].sort((a, b) => (a.sequence < b.sequence ? -1 : 1));
    fill(this.thread);
    for (const message of thread) {
      const mine = message.senderId === this.me;
      const kind = message.kind === MessageKind.SYSTEM ? "system" : mine ? "mine" : "theirs";
      const text = message.deleted ? "This message was deleted." : message.text;
      const stamp = message.createTime ? timestampDate(message.createTime).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
      this.thread.append(
        h("li", { class: `message ${kind}`, "data-sequence": String(message.sequence) }, h("p", {}, text), h("span", { class: "muted stamp" }, `${stamp}${message.editTime ? " · edited" : ""}`)),
      );
    }
    this.thread.scrollTop = this.thread.scrollHeight;
  }
}

function time(conversation: Conversation): number {
  const t = conversation.lastActivityTime ?? conversation.createTime;
  return t ? timestampDate(t).getTime() : 0;
}

/**
 * Whether a presence says anything to show: not while the account hides it,
 * nor while it is not shared with us yet (presence is shared once both have
 * written; a new message may be what shares it, so it is asked again then).
 */
function shown(p: Presence): boolean {
  return p.state === PresenceState.ONLINE || p.state === PresenceState.OFFLINE;
}
