// Two people in two headless Chromium contexts, through Envoy against the
// mesh: a freelancer and a client sign up (the code comes from the mail the
// mesh's SMTP sink printed), log in; the freelancer publishes a gig; the
// client finds it, opens it and messages the seller, who sees the message
// arrive live without reloading, and answers; the client sees the answer
// live. She orders the gig, and both see the order on their orders pages,
// waiting for funding. She pays it into escrow with a Stripe test card
// (the mesh's Stripe stand-in, its webhooks through Envoy), he delivers,
// she approves, payments releases the money to him less the fee, both
// review, and each sees their money. A screenshot of each
// step is saved in e2e-artifacts/.
//
// Env: E2E_MAIL_LOG  the SMTP sink's output (required)
//      CHROMIUM  Chromium to drive (default /usr/bin/chromium)
import { readFile, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { preview } from "vite";

const WEB = fileURLToPath(new URL("..", import.meta.url));
const ARTIFACTS = `${WEB}e2e-artifacts`;
const MAIL_LOG = process.env.E2E_MAIL_LOG;
if (!MAIL_LOG) throw new Error("E2E_MAIL_LOG must name the SMTP sink's output");
const STEP_TIMEOUT = 15_000;

const run = Date.now().toString(36);
const seller = { name: "Sam Seller", email: `sam-${run}@example.test`, password: "a long seller passphrase" };
const buyer = { name: "Bea Buyer", email: `bea-${run}@example.test`, password: "a long buyer passphrase" };
const gigTitle = `Hand-drawn bakery logo ${run}`;

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const path = `${ARTIFACTS}/${String(shot).padStart(2, "0")}-${name}.png`;
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot ${path}`);
}

/** The newest six-digit code mailed to `email`, from aiosmtpd's printout. */
async function codeFor(email) {
  const deadline = Date.now() + STEP_TIMEOUT;
  while (Date.now() < deadline) {
    const log = await readFile(MAIL_LOG, "utf8").catch(() => "");
    const mails = log.split("---------- MESSAGE FOLLOWS ----------").filter((m) => m.includes(email));
    const code = mails.at(-1)?.match(/^ {4}(\d{6})\s*$/m)?.[1];
    if (code) return code;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no code mailed to ${email}`);
}

async function signUpAndLogIn(page, person, { freelancer }) {
  await page.goto(origin);
  await page.fill("#signup-form [name=displayName]", person.name);
  await page.fill("#signup-form [name=email]", person.email);
  if (freelancer) await page.check("#signup-form [name=freelancer]");
  // A refusal the server explains field by field (google.rpc.BadRequest)
  // is shown as such.
  await page.fill("#signup-form [name=password]", person.email);
  await page.click("#signup-form button[type=submit]");
  await expectText(page, "#auth .status", "password: must not be the email address");
  await page.fill("#signup-form [name=password]", person.password);
  await page.click("#signup-form button[type=submit]");
  await page.waitForSelector("#verify-form");
  await expectText(page, "#auth .status", "data/mesh/logs/mail.log");
  await screenshot(page, `${person.name.split(" ")[0].toLowerCase()}-signed-up`);
  await page.fill("#verify-form [name=code]", await codeFor(person.email));
  await page.click("#verify-form button[type=submit]");
  await page.waitForSelector("#login-form");
  await page.fill("#login-form [name=password]", person.password);
  await page.click("#login-form button[type=submit]");
  await expectText(page, "#me", person.name);
  await expectText(page, "#notification-list", "Nothing yet");
}

async function expectText(page, selector, text) {
  await page.waitForFunction(
    ([s, t]) => document.querySelector(s)?.textContent?.includes(t),
    [selector, text],
    { timeout: STEP_TIMEOUT },
  ).catch(async (error) => {
    const found = await page.textContent(selector).catch(() => null);
    const errors = await page.$$eval(".status.error", (els) => els.map((el) => el.textContent)).catch(() => []);
    throw new Error(`expected ${selector} to contain ${JSON.stringify(text)}, found ${JSON.stringify(found)}; errors shown: ${JSON.stringify(errors)}`, { cause: error });
  });
}

/** Opens the order on `page`'s orders page until it shows `stage` (steps
 * that follow payments' events land a moment later). */
async function openOrder(page, stage) {
  const deadline = Date.now() + STEP_TIMEOUT;
  for (;;) {
    await page.click("#orders-refresh");
    await page.waitForSelector("#order-list:not([aria-busy])");
    await page.click(`#order-list button:has-text("${gigTitle}")`);
    await page.waitForSelector("#order-detail:not([aria-busy])");
    const shown = await page.textContent("#order-detail .stage").catch(() => "");
    if (shown?.includes(stage)) return;
    if (Date.now() > deadline) throw new Error(`the order never showed ${stage} (last: ${shown})`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

await mkdir(ARTIFACTS, { recursive: true });
const server = await preview({ root: WEB, logLevel: "warn" });
const origin = server.resolvedUrls.local[0];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const sellerPage = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const buyerPage = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  for (const page of [sellerPage, buyerPage]) {
    page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  }

  // The freelancer signs up, logs in and publishes a gig.
  await signUpAndLogIn(sellerPage, seller, { freelancer: true });
  await sellerPage.waitForSelector("#sell-form select[name=category] option", { state: "attached" });
  await sellerPage.fill("#sell-form [name=title]", gigTitle);
  await sellerPage.fill("#sell-form [name=description]", "A logo drawn by hand, delivered as SVG and PNG.");
  await sellerPage.selectOption("#sell-form select[name=category]", { index: 0 });
  await sellerPage.fill("#sell-form [name=price]", "45");
  await sellerPage.fill("#sell-form [name=days]", "3");
  await sellerPage.click("#sell-form button[type=submit]");
  await expectText(sellerPage, "#sell .status", "Published");
  await sellerPage.waitForSelector("#live-state.on", { timeout: STEP_TIMEOUT });
  await screenshot(sellerPage, "sam-published-a-gig");

  // The client signs up, logs in, finds the gig with filters and opens it.
  await signUpAndLogIn(buyerPage, buyer, { freelancer: false });
  await buyerPage.fill("#search-form [name=query]", `bakery ${run}`);
  await buyerPage.fill("#search-form [name=maxPrice]", "100");
  await buyerPage.fill("#search-form [name=maxDays]", "7");
  await buyerPage.click("#search-form button[type=submit]");
  await expectText(buyerPage, "#gig-results", gigTitle);
  await screenshot(buyerPage, "bea-found-the-gig");
  await buyerPage.click(`#gig-results button:has-text("${gigTitle}")`);
  await expectText(buyerPage, "#gig-detail", "Sold by Sam Seller");
  await screenshot(buyerPage, "bea-opened-the-gig");

  // She messages the seller.
  await buyerPage.click("#contact-seller");
  await expectText(buyerPage, "#thread-title", "Sam Seller");
  await buyerPage.fill("#composer-text", "Hi Sam! Could you do a croissant in the logo?");
  await buyerPage.click("#composer button[type=submit]");
  await expectText(buyerPage, "#thread", "croissant");
  await screenshot(buyerPage, "bea-sent-a-message");

  // The seller's page, never reloaded, shows the new conversation live.
  await expectText(sellerPage, "#conversations", "Bea Buyer");
  await expectText(sellerPage, "#conversations", "croissant");
  await sellerPage.waitForFunction(() => document.querySelector("#conversations .badge")?.textContent === "1", null, { timeout: STEP_TIMEOUT });
  await screenshot(sellerPage, "sam-sees-it-arrive");
  await sellerPage.click('#conversations button:has-text("Bea Buyer")');
  await expectText(sellerPage, "#thread .message.theirs", "croissant");
  await sellerPage.fill("#composer-text", "Happily, a golden one.");
  await sellerPage.press("#composer-text", "Enter");
  await expectText(sellerPage, "#thread .message.mine", "golden");
  await screenshot(sellerPage, "sam-answered");

  // And the client sees the answer live in the open thread.
  await expectText(buyerPage, "#thread .message.theirs", "golden");
  await expectText(sellerPage, "#presence", "online");
  await screenshot(buyerPage, "bea-sees-the-answer");

  // She orders the gig's package: the order waits for its funding on both
  // sides' orders pages (the payment takes it on from there).
  await buyerPage.click("#order-BASIC");
  await expectText(buyerPage, "#order-detail", gigTitle);
  await expectText(buyerPage, "#order-detail .stage", "Waiting for funding");
  await expectText(buyerPage, "#awaiting-funding", "payment into escrow");
  await expectText(buyerPage, "#orders-tabs [data-stage=PENDING_FUNDING]", "(1)");
  await screenshot(buyerPage, "bea-ordered-the-gig");
  await sellerPage.click("#orders-refresh");
  await expectText(sellerPage, "#order-list", gigTitle);
  await sellerPage.click(`#order-list button:has-text("${gigTitle}")`);
  await expectText(sellerPage, "#order-detail .stage", "Waiting for funding");
  await screenshot(sellerPage, "sam-sees-the-order");

  // She signs out; the seller sees her go offline and writes again; she
  // finds a notification about it when she is back.
  await buyerPage.click("#sign-out");
  await expectText(sellerPage, "#presence", "offline");
  await sellerPage.fill("#composer-text", "First sketch is ready whenever you are.");
  await sellerPage.press("#composer-text", "Enter");
  await expectText(sellerPage, "#thread .message.mine:last-child", "First sketch");
  await buyerPage.click("#auth button:has-text('Log in')");
  await buyerPage.fill("#login-form [name=email]", buyer.email);
  await buyerPage.fill("#login-form [name=password]", buyer.password);
  await buyerPage.click("#login-form button[type=submit]");
  await expectText(buyerPage, "#notification-list", "New messages from Sam Seller");
  await expectText(buyerPage, "#unread-notifications", "1");
  await expectText(buyerPage, "#conversations", "First sketch");
  await screenshot(buyerPage, "bea-back-with-a-notification");

  // She pays the order into escrow with the Visa test card: it starts.
  await buyerPage.click(`#order-list button:has-text("${gigTitle}")`);
  await buyerPage.selectOption("#fund-form select[name=card]", "pm_card_visa");
  await buyerPage.click("#fund-form button[type=submit]");
  await expectText(buyerPage, "#order-detail .stage", "Active");
  await screenshot(buyerPage, "bea-paid-into-escrow");

  // The seller delivers.
  await openOrder(sellerPage, "Active");
  await sellerPage.fill("#delivery-form [name=message]", "Here is the golden croissant logo.");
  await sellerPage.click("#delivery-form button[type=submit]");
  await expectText(sellerPage, "#order-detail .stage", "Delivered");
  await screenshot(sellerPage, "sam-delivered");

  // She approves: payments releases the escrow to him, less the platform's
  // fee, and the order is completed.
  await openOrder(buyerPage, "Delivered");
  await buyerPage.click("#approve-form button[type=submit]");
  await openOrder(buyerPage, "Completed");
  await screenshot(buyerPage, "bea-approved");

  // Both review; the reviews show once both are written.
  await buyerPage.fill("#review-form [name=rating]", "5");
  await buyerPage.fill("#review-form [name=comment]", "A lovely golden croissant.");
  await buyerPage.click("#review-form button[type=submit]");
  await openOrder(sellerPage, "Completed");
  await sellerPage.fill("#review-form [name=rating]", "5");
  await sellerPage.fill("#review-form [name=comment]", "Clear brief, quick answers.");
  await sellerPage.click("#review-form button[type=submit]");
  await expectText(sellerPage, "#reviews", "golden croissant");
  await openOrder(buyerPage, "Completed");
  await expectText(buyerPage, "#reviews", "Clear brief");
  await screenshot(buyerPage, "bea-sees-both-reviews");

  // The money, from the ledger: she spent the price; he earned it less 10 %.
  await buyerPage.click("#money-refresh");
  await expectText(buyerPage, "#client-spent", "45.00");
  await expectText(buyerPage, "#transactions", "payment");
  await screenshot(buyerPage, "bea-money");
  await sellerPage.click("#money-refresh");
  await expectText(sellerPage, "#freelancer-payable", "40.50");
  await expectText(sellerPage, "#transactions", "earning");
  await screenshot(sellerPage, "sam-money");
  console.log("browser chat and a paid order through Envoy: ok");
} finally {
  await browser.close();
  await new Promise((resolve) => server.httpServer.close(resolve));
}
