// Notifications: the stored list, new ones pushed live on the feed, and an
// unread count in the header.
import { notifications } from "../api";
import { fill, h } from "../dom";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Notification } from "../gen/frevix/messaging/v1/notifications_pb";

export class NotificationsView {
  readonly element: HTMLElement;
  readonly badge = h("span", { class: "badge", id: "unread-notifications", hidden: true });
  private readonly list = h("ul", { class: "notifications", id: "notification-list" });
  private items: Notification[] = [];
  private unread = 0n;

  constructor() {
    const markAll = h("button", { type: "button", class: "link", onclick: () => void this.markAll() }, "Mark all read");
    this.element = h("section", { class: "card", id: "notifications" }, h("h2", {}, "Notifications ", this.badge), this.list, markAll);
  }

  async load(): Promise<void> {
    const answer = await notifications.listNotifications({ page: { pageSize: 20 } });
    this.items = answer.notifications;
    this.unread = answer.unreadCount;
    this.render();
  }

  push(notification: Notification): void {
    if (this.items.some((n) => n.id === notification.id)) return;
    this.items.unshift(notification);
    if (!notification.read) this.unread += 1n;
    this.render();
  }

  private async markAll(): Promise<void> {
    const answer = await notifications.markNotificationsRead({ all: true });
    this.unread = answer.unreadCount;
    for (const n of this.items) n.read = true;
    this.render();
  }

  private render(): void {
    this.badge.textContent = String(this.unread);
    this.badge.hidden = this.unread === 0n;
    fill(this.list, ...(this.items.length === 0 ? [h("li", { class: "muted" }, "Nothing yet. Proposals, payments and messages you miss show up here.")] : []));
    for (const n of this.items) {
      const when = n.createTime ? timestampDate(n.createTime).toLocaleString() : "";
      this.list.append(h("li", { class: n.read ? "" : "unread" }, h("strong", {}, n.title), n.body ? h("p", {}, n.body) : null, h("span", { class: "muted" }, when)));
    }
  }
}
