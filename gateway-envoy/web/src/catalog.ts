// The category tree, fetched once: search filters and the gig form both
// offer it as <optgroup>s of subcategories.
import { marketplace } from "./api";
import type { Category } from "./gen/frevix/marketplace/v1/marketplace_pb";
import { h } from "./dom";

let tree: Promise<Category[]> | null = null;

export function categories(): Promise<Category[]> {
  tree ??= marketplace.listCategories({}).then((r) => r.categories);
  return tree;
}

/** A <select> of subcategories grouped by their parents. */
export async function categorySelect(name: string, anyLabel?: string): Promise<HTMLSelectElement> {
  const select = h("select", { name }) as HTMLSelectElement;
  if (anyLabel) select.append(h("option", { value: "" }, anyLabel));
  for (const top of await categories()) {
    // A top-level category also filters its subcategories in search.
    const group = h("optgroup", { label: top.name });
    if (anyLabel) group.append(h("option", { value: top.id }, `All of ${top.name}`));
    for (const sub of top.children) group.append(h("option", { value: sub.id }, sub.name));
    select.append(group);
  }
  return select;
}
