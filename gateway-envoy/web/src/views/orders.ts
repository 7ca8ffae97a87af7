// The orders pages of both sides: one tab per stage with its count
// (CountContracts), the contracts of a tab (ListContracts), and one
// contract with the steps its `next_actions` offer the signed-in side:
// pay into escrow (Stripe's test cards), send requirements, deliver,
// approve or ask for changes, review.
import { contracts, payments } from "../api";
import { describe } from "../errors";
import { fill, h, submitting, values } from "../dom";
import { formatMoney } from "../money";
import { FundingStatus } from "../gen/frevix/payments/v1/payments_pb";
import { field } from "./auth";
import {
  ContractStage,
  MilestoneStatus,
  type Contract,
  type Milestone,
} from "../gen/frevix/contracts/v1/contracts_pb";

const TABS: [ContractStage, string][] = [
  [ContractStage.PENDING_FUNDING, "Waiting for funding"],
  [ContractStage.ACTIVE, "Active"],
  [ContractStage.LATE, "Late"],
  [ContractStage.DELIVERED, "Delivered"],
  [ContractStage.COMPLETED, "Completed"],
  [ContractStage.CANCELLED, "Cancelled"],
  [ContractStage.DISPUTED, "Disputed"],
];

export class OrdersView {
  readonly element: HTMLElement;
  private readonly tabs = h("div", { class: "tabs", id: "orders-tabs", role: "tablist" });
  private readonly list = h("ul", { class: "list", id: "order-list" });
  private readonly detail = h("div", { id: "order-detail" });
  private readonly status = h("p", { class: "status", role: "status" });
  private stage = ContractStage.UNSPECIFIED;

  constructor(private readonly me: string) {
    this.element = h(
      "section",
      { class: "card", id: "orders" },
      h("h2", {}, "Orders"),
      h("button", { type: "button", class: "link", id: "orders-refresh", onclick: () => void this.load() }, "Refresh"),
      this.tabs,
      this.list,
      this.detail,
      this.status,
    );
  }

  /** Counts per tab and the contracts of the current one. */
  async load(): Promise<void> {
    this.list.setAttribute("aria-busy", "true");
    try {
      const [counted, listed] = await Promise.all([
        contracts.countContracts({}),
        contracts.listContracts({ stage: this.stage }),
      ]);
      fill(
        this.tabs,
        ...TABS.map(([stage, label]) => {
          const count = counted.counts.find((c) => c.stage === stage)?.count ?? 0n;
          return h(
            "button",
            {
              type: "button",
              "data-stage": ContractStage[stage],
              class: stage === this.stage ? "active" : "",
              onclick: () => {
                this.stage = this.stage === stage ? ContractStage.UNSPECIFIED : stage;
                void this.load();
              },
            },
            `${label} (${count})`,
          );
        }),
      );
      fill(
        this.list,
        ...(listed.contracts.length === 0 ? [h("li", { class: "muted" }, "No orders here")] : []),
        ...listed.contracts.map((c) =>
          h(
            "li",
            {},
            h("button", { type: "button", class: "link", onclick: () => void this.open(c.id) }, c.title),
            h("span", { class: "muted" }, ` · ${stageName(c.stage)} · ${formatMoney(c.total)}`),
          ),
        ),
      );
    } catch (error) {
      this.status.textContent = describe(error);
    } finally {
      this.list.removeAttribute("aria-busy");
    }
  }

  /** Shows one contract with the steps the signed-in side may take. */
  async open(id: string): Promise<void> {
    this.detail.setAttribute("aria-busy", "true");
    try {
      const answer = await contracts.getContract({ contractId: id });
      if (answer.contract) this.show(answer.contract);
    } catch (error) {
      this.status.textContent = describe(error);
    } finally {
      this.detail.removeAttribute("aria-busy");
    }
  }

  show(contract: Contract): void {
    const mine = contract.clientId === this.me ? contract.nextActions?.client : contract.nextActions?.freelancer;
    const actions = mine ?? [];
    fill(
      this.detail,
      h(
        "article",
        { class: "order", "data-contract": contract.id },
        h("h3", {}, contract.title),
        h("p", { class: "stage" }, stageName(contract.stage)),
        ...contract.milestones.map((m) => milestoneLine(m)),
        contract.order?.dueTime ? h("p", { class: "muted" }, `Due ${new Date(Number(contract.order.dueTime.seconds) * 1000).toLocaleString()}`) : null,
        h("div", { class: "actions" }, ...actions.map((action) => this.action(contract, action))),
        contract.reviews.length > 0
          ? h("ul", { class: "list", id: "reviews" }, ...contract.reviews.map((r) => h("li", {}, `${"★".repeat(r.rating)} ${r.comment}`)))
          : null,
        h("ol", { class: "timeline" }, ...contract.timeline.map((t) => h("li", {}, t.details))),
      ),
    );
  }

  /** Pays a milestone and waits (briefly) for the escrow to hold it. */
  private async pay(contract: Contract, milestoneId: string, card: string): Promise<Contract | undefined> {
    const answer = await payments.fundMilestone({ contractId: contract.id, milestoneId, paymentMethod: card });
    const funding = answer.funding;
    if (funding?.status !== FundingStatus.SUCCEEDED) {
      throw new Error(funding?.failureReason || "The payment did not go through.");
    }
    for (let i = 0; i < 40; i += 1) {
      const seen = (await contracts.getContract({ contractId: contract.id })).contract;
      const milestone = seen?.milestones.find((m) => m.id === milestoneId);
      if (milestone && milestone.status !== MilestoneStatus.PENDING) return seen;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return (await contracts.getContract({ contractId: contract.id })).contract;
  }

  /** One step's form or button. */
  private action(contract: Contract, action: string): HTMLElement | null {
    const [name, milestoneId = ""] = action.split(":");
    const done = async (next: Contract | undefined): Promise<void> => {
      if (next) this.show(next);
      await this.load();
    };
    const form = (id: string, label: string, fields: HTMLElement[], run: (v: Record<string, string>) => Promise<Contract | undefined>) => {
      const status = h("p", { class: "status", role: "status" });
      const el = h("form", { id }, ...fields, h("button", { type: "submit" }, label), status) as HTMLFormElement;
      el.addEventListener("submit", (event) => {
        event.preventDefault();
        const v = values(el);
        void submitting(el, status, async () => done(await run(v)), describe);
      });
      return el;
    };
    switch (name) {
      case "FundMilestone":
        return form(
          "fund-form",
          "Pay into escrow",
          [
            h("p", { class: "muted", id: "awaiting-funding" }, "Waiting for your payment into escrow: the seller is paid when you approve the work."),
            field(
              "Test card",
              h(
                "select",
                { name: "card" },
                h("option", { value: "pm_card_visa" }, "Visa test card (succeeds)"),
                h("option", { value: "pm_card_chargeDeclined" }, "Declined test card"),
              ),
            ),
          ],
          async (v) => this.pay(contract, milestoneId, v.card),
        );
      case "SubmitRequirements":
        return form("requirements-form", "Send requirements", (contract.order?.questions ?? []).map((q) => field(q.question, h("textarea", { name: q.id, rows: "2", required: q.required }))), async (v) =>
          (await contracts.submitRequirements({ contractId: contract.id, answers: Object.entries(v).filter(([, a]) => a !== "").map(([questionId, answer]) => ({ questionId, answer })) })).contract,
        );
      case "SubmitDelivery":
        return form("delivery-form", "Deliver", [field("Message", h("textarea", { name: "message", rows: "2", required: true }))], async (v) =>
          (await contracts.submitDelivery({ contractId: contract.id, milestoneId, message: v.message })).contract,
        );
      case "ApproveMilestone":
        return form("approve-form", "Approve delivery", [], async () => (await contracts.approveMilestone({ contractId: contract.id, milestoneId })).contract);
      case "RequestRevision":
        return form("revision-form", "Ask for changes", [field("What should change", h("textarea", { name: "reason", rows: "2", required: true }))], async (v) =>
          (await contracts.requestRevision({ contractId: contract.id, milestoneId, reason: v.reason })).contract,
        );
      case "SubmitReview":
        return form("review-form", "Review", [field("Rating (1–5)", h("input", { name: "rating", type: "number", min: "1", max: "5", required: true })), field("Comment", h("textarea", { name: "comment", rows: "2" }))], async (v) =>
          (await contracts.submitReview({ contractId: contract.id, rating: Number(v.rating), comment: v.comment })).contract,
        );
      default:
        return null;
    }
  }
}

function milestoneLine(m: Milestone): HTMLElement {
  return h("p", { class: "milestone" }, `${m.title} · ${formatMoney(m.amount)} · ${MilestoneStatus[m.status].toLowerCase().replaceAll("_", " ")}`);
}

function stageName(stage: ContractStage): string {
  return TABS.find(([s]) => s === stage)?.[1] ?? "";
}
