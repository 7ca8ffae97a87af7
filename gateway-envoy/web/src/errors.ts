// Turns a failed call into words for the page. INVALID_ARGUMENT carries a
// google.rpc.BadRequest naming each field (its type generated from proto/
// like the services'); the page shows those next to the message instead of
// a bare status code.
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "./gen/google/rpc/error_details_pb";

export type FieldViolation = { field: string; description: string };

export function violations(error: unknown): FieldViolation[] {
  if (!(error instanceof ConnectError)) return [];
  return error
    .findDetails(BadRequestSchema)
    .flatMap((bad) => bad.fieldViolations.map(({ field, description }) => ({ field, description })));
}

/** One readable line: the server's message, or what went wrong on the way. */
export function describe(error: unknown): string {
  if (error instanceof ConnectError) {
    const found = violations(error);
    if (found.length > 0) {
      return found.map((v) => `${v.field}: ${v.description}`).join("; ");
    }
    if (error.code === Code.Unavailable) {
      return "Frevix cannot be reached; is the gateway running?";
    }
    return error.rawMessage || Code[error.code];
  }
  return error instanceof Error ? error.message : String(error);
}
