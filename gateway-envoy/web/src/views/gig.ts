// One gig: what the seller offers in each package, the way to ask them
// something before buying, and (for clients) to order a package.
import { fill, h } from "../dom";
import { formatMoney } from "../money";
import { PackageTier, type Gig } from "../gen/frevix/marketplace/v1/marketplace_pb";

export function gigView(
  gig: Gig,
  me: string,
  onContact: (gig: Gig) => void,
  onOrder?: (gig: Gig, tier: PackageTier) => void,
): HTMLElement {
  const own = gig.sellerId === me;
  const packages = h("div", { class: "packages" });
  fill(
    packages,
    ...gig.packages.map((p) =>
      h(
        "div",
        { class: "package" },
        h("h4", {}, sameWord(PackageTier[p.tier], p.name) ? p.name : `${PackageTier[p.tier].toLowerCase()} · ${p.name}`),
        h("p", { class: "price" }, formatMoney(p.price)),
        h("p", { class: "muted" }, `${p.deliveryDays}-day delivery · ${p.revisions} revisions`),
        p.description ? h("p", {}, p.description) : null,
        !own && onOrder
          ? h("button", { type: "button", id: `order-${PackageTier[p.tier]}`, onclick: () => onOrder(gig, p.tier) }, `Order ${p.name}`)
          : null,
      ),
    ),
  );
  return h(
    "article",
    { class: "gig-detail", id: "gig-detail" },
    h("h3", {}, gig.title),
    h("p", { class: "muted" }, `Sold by ${gig.sellerDisplayName || "a freelancer"}`),
    h("p", { class: "description" }, gig.description),
    packages,
    own
      ? h("p", { class: "muted" }, "This is your gig.")
      : h("button", { type: "button", id: "contact-seller", onclick: () => onContact(gig) }, `Message ${gig.sellerDisplayName || "the seller"}`),
  );
}

function sameWord(a: string | undefined, b: string): boolean {
  return (a ?? "").toLowerCase() === b.toLowerCase();
}
