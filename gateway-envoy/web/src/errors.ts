// Turns a failed call into words for the page. INVALID_ARGUMENT carries a
// google.rpc.BadRequest naming each field; the page shows those next to the
// message instead of a bare status code.
import { Code, ConnectError } from "@connectrpc/connect";
import { BinaryReader } from "@bufbuild/protobuf/wire";

export type FieldViolation = { field: string; description: string };

const BAD_REQUEST = "google.rpc.BadRequest";

/** google.rpc.BadRequest { repeated FieldViolation field_violations = 1 }. */
function badRequest(bytes: Uint8Array): FieldViolation[] {
  const out: FieldViolation[] = [];
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== 1) {
      reader.skip(wireType);
      continue;
    }
    // FieldViolation { string field = 1; string description = 2 }
    const inner = new BinaryReader(reader.bytes());
    const violation = { field: "", description: "" };
    while (inner.pos < inner.len) {
      const [f, w] = inner.tag();
      if (f === 1) violation.field = inner.string();
      else if (f === 2) violation.description = inner.string();
      else inner.skip(w);
    }
    out.push(violation);
  }
  return out;
}

export function violations(error: unknown): FieldViolation[] {
  if (!(error instanceof ConnectError)) return [];
  return error.details.flatMap((d) =>
    "type" in d && d.type === BAD_REQUEST ? badRequest(d.value) : [],
  );
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
