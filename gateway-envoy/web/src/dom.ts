// A small element builder: user content always goes in as text, never as
// markup, so a message or gig title cannot inject anything into the page.
type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | ((event: Event) => void)>;

export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === "function") el.addEventListener(name.replace(/^on/, ""), value);
    else if (value === true) el.setAttribute(name, "");
    else if (value !== false) el.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** Replaces everything inside `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** The values of a form's named fields. */
export function values(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  new FormData(form).forEach((value, key) => {
    if (typeof value === "string") out[key] = value.trim();
  });
  return out;
}

/** Runs `action` with the form's button disabled and shows what failed. */
export async function submitting(
  form: HTMLFormElement,
  status: HTMLElement,
  action: () => Promise<void>,
  describe: (error: unknown) => string,
): Promise<void> {
  const button = form.querySelector("button[type=submit]") as HTMLButtonElement | null;
  if (button) button.disabled = true;
  status.textContent = "";
  status.className = "status";
  try {
    await action();
  } catch (error) {
    status.textContent = describe(error);
    status.className = "status error";
  } finally {
    if (button) button.disabled = false;
  }
}
