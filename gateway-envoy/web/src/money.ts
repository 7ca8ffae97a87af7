// Money is minor units plus an ISO 4217 code, as in every Frevix contract;
// the page converts only for display and input.
import { create } from "@bufbuild/protobuf";
import { MoneySchema, type Money } from "./gen/frevix/common/v1/money_pb";

export function formatMoney(money: Money | undefined): string {
  if (!money) return "";
  const amount = Number(money.minorUnits) / 100;
  return new Intl.NumberFormat(undefined, { style: "currency", currency: money.currencyCode }).format(amount);
}

/** "25" or "25.50" in `currency` → Money, or undefined for an empty field. */
export function parseMoney(text: string, currency = "USD"): Money | undefined {
  if (text === "") return undefined;
  const amount = Number(text);
  if (!Number.isFinite(amount) || amount < 0) return undefined;
  return create(MoneySchema, { currencyCode: currency, minorUnits: BigInt(Math.round(amount * 100)) });
}
