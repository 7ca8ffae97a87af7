// Display names for account ids seen in conversations, looked up once from
// the public marketplace profiles (freelancer first, then client).
import { marketplace } from "./api";

const names = new Map<string, Promise<string>>();

export function remember(accountId: string, name: string): void {
  if (name) names.set(accountId, Promise.resolve(name));
}

export function nameOf(accountId: string): Promise<string> {
  let found = names.get(accountId);
  if (!found) {
    found = marketplace
      .getFreelancerProfile({ accountId })
      .then((r) => r.profile?.displayName || Promise.reject(new Error("no name")))
      .catch(() => marketplace.getClientProfile({ accountId }).then((r) => r.profile?.displayName ?? ""))
      .catch(() => "")
      .then((name) => name || "Frevix member");
    names.set(accountId, found);
  }
  return found;
}
