// Gig search with the filters buyers use most: words, category, price,
// delivery time, rating and order. Results page with the server's token.
import { create } from "@bufbuild/protobuf";
import { marketplace } from "../api";
import { categorySelect } from "../catalog";
import { describe } from "../errors";
import { fill, h, submitting, values } from "../dom";
import { formatMoney, parseMoney } from "../money";
import { SearchGigsRequestSchema, SearchSort, type Gig } from "../gen/frevix/marketplace/v1/marketplace_pb";
import { field } from "./auth";

const PAGE_SIZE = 10;

export function searchView(onOpen: (gig: Gig) => void): HTMLElement {
  const status = h("p", { class: "status", role: "status" });
  const results = h("ol", { class: "results", id: "gig-results" });
  const more = h("button", { type: "button", class: "link", hidden: true }, "More results");
  const form = h(
    "form",
    { id: "search-form", class: "filters" },
    field("Looking for", h("input", { name: "query", type: "search", placeholder: "logo, landing page, translation…" })),
    h("span", { class: "field", "data-slot": "category" }),
    field("Max price (USD)", h("input", { name: "maxPrice", type: "number", min: "0", step: "1" })),
    field("Delivery within (days)", h("input", { name: "maxDays", type: "number", min: "0", max: "90" })),
    field("Rating at least", h("select", { name: "minRating" }, h("option", { value: "" }, "Any"), ...[4.5, 4, 3].map((r) => h("option", { value: String(r) }, `${r}★`)))),
    field(
      "Order by",
      h(
        "select",
        { name: "sort" },
        h("option", { value: String(SearchSort.RELEVANCE) }, "Best match"),
        h("option", { value: String(SearchSort.PRICE_ASCENDING) }, "Lowest price"),
        h("option", { value: String(SearchSort.RATING) }, "Best rated"),
        h("option", { value: String(SearchSort.NEWEST) }, "Newest"),
      ),
    ),
    h("button", { type: "submit" }, "Search"),
  ) as HTMLFormElement;
  void categorySelect("category", "Any category").then((select) => {
    form.querySelector("[data-slot=category]")?.replaceWith(field("Category", select));
  });

  let nextToken = "";
  async function search(append: boolean): Promise<void> {
    const v = values(form);
    const request = create(SearchGigsRequestSchema, {
      query: v.query,
      categoryId: v.category ?? "",
      maxPrice: parseMoney(v.maxPrice ?? ""),
      maxDeliveryDays: Number(v.maxDays || 0),
      minRating: Number(v.minRating || 0),
      sort: Number(v.sort) as SearchSort,
      page: { pageSize: PAGE_SIZE, pageToken: append ? nextToken : "" },
    });
    const answer = await marketplace.searchGigs(request);
    if (!append) fill(results);
    for (const gig of answer.gigs) results.append(gigCard(gig, onOpen));
    nextToken = answer.page?.nextPageToken ?? "";
    more.hidden = nextToken === "";
    status.textContent = answer.total === 0n ? "No gigs match; try fewer filters." : `${answer.total} ${answer.total === 1n ? "gig" : "gigs"}`;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submitting(form, status, () => search(false), describe);
  });
  more.addEventListener("click", () => void search(true).catch((e) => (status.textContent = describe(e))));

  return h("section", { class: "card", id: "search" }, h("h2", {}, "Find a gig"), form, status, results, more);
}

function gigCard(gig: Gig, onOpen: (gig: Gig) => void): HTMLElement {
  const cheapest = gig.packages.reduce<Gig["packages"][number] | undefined>(
    (low, p) => (!low || (p.price && low.price && p.price.minorUnits < low.price.minorUnits) ? p : low),
    undefined,
  );
  return h(
    "li",
    {},
    h(
      "button",
      { type: "button", class: "gig", onclick: () => onOpen(gig) },
      h("strong", { class: "gig-title" }, gig.title),
      h("span", { class: "muted" }, `by ${gig.sellerDisplayName || "a freelancer"}`),
      h("span", { class: "price" }, cheapest ? `from ${formatMoney(cheapest.price)}` : ""),
      gig.reviewCount > 0 ? h("span", { class: "muted" }, `${gig.averageRating.toFixed(1)}★ (${gig.reviewCount})`) : null,
    ),
  );
}
