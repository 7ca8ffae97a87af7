// The signed-in person's money, read from the payments ledger: what they
// hold in escrow, spent and got back as a client, and what they earned and
// were paid out as a freelancer, with the movements behind the figures.
import { create } from "@bufbuild/protobuf";
import { payments } from "../api";
import { describe } from "../errors";
import { fill, h } from "../dom";
import { formatMoney } from "../money";
import { MoneySchema } from "../gen/frevix/common/v1/money_pb";
import { TransactionType, type Balance, type Transaction } from "../gen/frevix/payments/v1/payments_pb";

export class MoneyView {
  readonly element: HTMLElement;
  private readonly balances = h("dl", { id: "balances" });
  private readonly movements = h("ul", { class: "list", id: "transactions" });
  private readonly status = h("p", { class: "status", role: "status" });

  constructor() {
    this.element = h(
      "section",
      { class: "card", id: "money" },
      h("h2", {}, "Money"),
      h("button", { type: "button", class: "link", id: "money-refresh", onclick: () => void this.load() }, "Refresh"),
      this.balances,
      this.movements,
      this.status,
    );
  }

  async load(): Promise<void> {
    try {
      const [balance, listed] = await Promise.all([payments.getBalance({}), payments.listTransactions({})]);
      fill(this.balances, ...(balance.balances.length === 0 ? [h("p", { class: "muted" }, "No money moved yet")] : balance.balances.flatMap(figures)));
      fill(this.movements, ...listed.transactions.map(line));
    } catch (error) {
      this.status.textContent = describe(error);
    }
  }
}

function figures(balance: Balance): HTMLElement[] {
  const money = (minorUnits: bigint) => formatMoney(create(MoneySchema, { currencyCode: balance.currencyCode, minorUnits }));
  const shown: [string, string, bigint][] = [
    ["client-in-escrow", "In escrow (paid)", balance.clientInEscrow],
    ["client-spent", "Spent", balance.clientSpent],
    ["client-refunded", "Refunded", balance.clientRefunded],
    ["freelancer-in-escrow", "In escrow (for you)", balance.freelancerInEscrow],
    ["freelancer-payable", "Earned, to be paid out", balance.freelancerPayable],
    ["freelancer-paid-out", "Paid out", balance.freelancerPaidOut],
  ];
  return shown
    .filter(([, , amount]) => amount !== 0n)
    .flatMap(([id, label, amount]) => [h("dt", {}, label), h("dd", { id }, money(amount))]);
}

function line(t: Transaction): HTMLElement {
  const kind = TransactionType[t.type].toLowerCase();
  const fee = t.fee ? ` (fee ${formatMoney(t.fee)})` : "";
  return h("li", { "data-type": kind }, `${kind} · ${formatMoney(t.amount)}${fee}`);
}
