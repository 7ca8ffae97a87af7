// For freelancers: publish a one-package gig in one step (CreateGig, then
// PublishGig). The full editor — tiers, extras, gallery — is for a later page.
import { marketplace } from "../api";
import { categorySelect } from "../catalog";
import { describe } from "../errors";
import { h, submitting, values } from "../dom";
import { parseMoney } from "../money";
import { PackageTier } from "../gen/frevix/marketplace/v1/marketplace_pb";
import { field } from "./auth";

export function sellView(): HTMLElement {
  const status = h("p", { class: "status", role: "status" });
  const form = h(
    "form",
    { id: "sell-form" },
    field("Title (10–100 characters)", h("input", { name: "title", required: true, minlength: "10", maxlength: "100" })),
    field("Description (20+ characters)", h("textarea", { name: "description", required: true, minlength: "20", rows: "3" })),
    h("span", { "data-slot": "category" }),
    h(
      "div",
      { class: "row" },
      field("Price (USD)", h("input", { name: "price", type: "number", min: "5", step: "1", required: true })),
      field("Delivery (days)", h("input", { name: "days", type: "number", min: "1", max: "90", required: true })),
    ),
    h("button", { type: "submit" }, "Publish gig"),
  ) as HTMLFormElement;
  void categorySelect("category").then((select) => {
    select.required = true;
    form.querySelector("[data-slot=category]")?.replaceWith(field("Category", select));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const v = values(form);
    void submitting(form, status, async () => {
      const created = await marketplace.createGig({
        gig: {
          title: v.title,
          description: v.description,
          categoryId: v.category,
          packages: [
            {
              tier: PackageTier.BASIC,
              name: "Basic",
              price: parseMoney(v.price),
              deliveryDays: Number(v.days),
              revisions: 1,
            },
          ],
        },
      });
      const gig = created.gig;
      if (!gig) throw new Error("the server did not return the gig");
      await marketplace.publishGig({ gigId: gig.id });
      status.textContent = `Published “${gig.title}”. Buyers can find it now.`;
      form.reset();
    }, describe);
  });
  return h("section", { class: "card", id: "sell" }, h("h2", {}, "Sell a service"), form, status);
}
