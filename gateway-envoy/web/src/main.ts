// Frevix in the browser: every call goes through Envoy as grpc-web with the
// clients generated from proto/. Signed out, the page offers sign-up, email
// verification and log-in; signed in, gig search, selling, ordering and the
// orders pages with payment into escrow, money, live chat and notifications.
import "./style.css";
import { contracts, identity, signOut, signedIn } from "./api";
import { describe } from "./errors";
import { fill, h } from "./dom";
import { openFeed, type Feed } from "./live";
import { remember } from "./people";
import { Role, type Account } from "./gen/frevix/identity/v1/identity_pb";
import { PackageTier, type Gig } from "./gen/frevix/marketplace/v1/marketplace_pb";
import { authView } from "./views/auth";
import { ChatView } from "./views/chat";
import { gigView } from "./views/gig";
import { MoneyView } from "./views/money";
import { NotificationsView } from "./views/notifications";
import { OrdersView } from "./views/orders";
import { searchView } from "./views/search";
import { sellView } from "./views/sell";

const root = document.getElementById("app") as HTMLElement;
const who = document.getElementById("who") as HTMLElement;
let feed: Feed | null = null;

function showSignedOut(): void {
  feed?.stop();
  feed = null;
  fill(who);
  fill(root, authView((account) => void showSignedIn(account)));
}

async function showSignedIn(account: Account): Promise<void> {
  remember(account.id, account.displayName);
  const chat = new ChatView(account.id);
  const notifications = new NotificationsView();
  const detail = h("div", { id: "detail" });
  const connection = h("span", { class: "dot", title: "Live updates: connecting", id: "live-state" });
  const isFreelancer = account.roles.includes(Role.FREELANCER);
  const isClient = account.roles.includes(Role.CLIENT);
  const orders = new OrdersView(account.id);
  const money = new MoneyView();
  const order = async (gig: Gig, tier: PackageTier): Promise<void> => {
    try {
      const placed = await contracts.placeOrder({ gigId: gig.id, packageTier: tier, quantity: 1 });
      await orders.load();
      if (placed.contract) orders.show(placed.contract);
      orders.element.scrollIntoView({ behavior: "smooth", block: "nearest" });
    } catch (error) {
      fill(detail, h("p", { class: "status error", id: "order-error" }, describe(error)));
    }
  };

  fill(
    who,
    connection,
    h("span", { id: "me" }, account.displayName),
    notifications.badge,
    h("button", { type: "button", class: "link", id: "sign-out", onclick: () => void leave() }, "Sign out"),
  );
  fill(
    root,
    h(
      "div",
      { class: "columns" },
      h(
        "div",
        {},
        searchView((gig) => {
          remember(gig.sellerId, gig.sellerDisplayName);
          fill(
            detail,
            gigView(gig, account.id, (g) => void chat.openWith(g.sellerId), isClient ? (g, tier) => void order(g, tier) : undefined),
          );
          detail.scrollIntoView({ behavior: "smooth", block: "nearest" });
        }),
        detail,
        isFreelancer ? sellView() : null,
        orders.element,
        money.element,
      ),
      h("div", {}, chat.element, notifications.element),
    ),
  );

  await Promise.all([chat.load(), notifications.load(), orders.load(), money.load()]).catch((error) => console.warn(describe(error)));
  feed = openFeed(
    () => chat.positions(),
    (event) => {
      if (event.case === "notification") notifications.push(event.value);
      else chat.handle(event);
    },
    (connected) => {
      connection.classList.toggle("on", connected);
      connection.title = connected ? "Live updates: connected" : "Live updates: reconnecting";
    },
  );
}

async function leave(): Promise<void> {
  await identity.logout({}).catch(() => undefined);
  signOut();
  showSignedOut();
}

async function start(): Promise<void> {
  if (!signedIn()) return showSignedOut();
  try {
    const me = await identity.getMe({});
    if (me.account) return showSignedIn(me.account);
  } catch {
    signOut();
  }
  showSignedOut();
}

void start();
