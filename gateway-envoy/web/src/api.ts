// One grpc-web transport to Envoy and a typed client per service, generated
// from proto/. Every call carries the signed-in user's access token, which
// is refreshed shortly before it expires (refresh tokens are single use, so
// concurrent calls share one refresh).
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ContractService } from "./gen/frevix/contracts/v1/contracts_pb";
import { IdentityService, type TokenPair } from "./gen/frevix/identity/v1/identity_pb";
import { MarketplaceService } from "./gen/frevix/marketplace/v1/marketplace_pb";
import { MessagingService } from "./gen/frevix/messaging/v1/messaging_pb";
import { NotificationService } from "./gen/frevix/messaging/v1/notifications_pb";
import { PaymentService } from "./gen/frevix/payments/v1/payments_pb";

/** Envoy's address: `?gateway=` on the page, else the build's, else `make mesh`'s. */
export const gatewayUrl =
  new URLSearchParams(location.search).get("gateway") ??
  import.meta.env.VITE_FREVIX_GATEWAY ??
  "http://127.0.0.1:8080";

const STORAGE_KEY = "frevix.session";
const REFRESH_MARGIN_MS = 30_000;

type Session = { accessToken: string; refreshToken: string; expiresAt: number };

let session: Session | null = load();
let refreshing: Promise<void> | null = null;

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

/** Keeps a new token pair for this tab. */
export function signIn(tokens: TokenPair): void {
  session = {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: tokens.accessTokenExpireTime
      ? timestampDate(tokens.accessTokenExpireTime).getTime()
      : Date.now() + 5 * 60_000,
  };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function signOut(): void {
  session = null;
  sessionStorage.removeItem(STORAGE_KEY);
}

export function signedIn(): boolean {
  return session !== null;
}

async function freshToken(): Promise<string | null> {
  if (!session) return null;
  if (session.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
    refreshing ??= identity
      .refresh({ refreshToken: session.refreshToken })
      .then((r) => (r.tokens ? signIn(r.tokens) : signOut()))
      .catch(() => signOut())
      .finally(() => (refreshing = null));
    await refreshing;
  }
  return session?.accessToken ?? null;
}

const bearer: Interceptor = (next) => async (req) => {
  // Refresh itself goes out without a token.
  if (req.method.name !== "Refresh") {
    const token = await freshToken();
    if (token) req.header.set("authorization", `Bearer ${token}`);
  }
  return next(req);
};

const transport = createGrpcWebTransport({
  baseUrl: gatewayUrl,
  interceptors: [bearer],
});

export const identity = createClient(IdentityService, transport);
export const marketplace = createClient(MarketplaceService, transport);
export const messaging = createClient(MessagingService, transport);
export const notifications = createClient(NotificationService, transport);
export const contracts = createClient(ContractService, transport);
export const payments = createClient(PaymentService, transport);
