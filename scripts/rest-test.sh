#!/usr/bin/env bash
# The REST/JSON door, with curl only: against a running gateway (Envoy's
# gRPC-JSON transcoder in front of the mesh), a freelancer and a client sign
# up (codes from the mail log), the freelancer publishes a gig, the client
# finds it by search and orders it; on the way, the answers a REST client
# meets when it gets something wrong (JSON google.rpc.Status with the HTTP
# status of its code, field violations, no token, a misspelt parameter).
# Usage: scripts/rest-test.sh [GATEWAY_URL] [MAIL_LOG]
#        (defaults: http://127.0.0.1:8080 and data/mesh/logs/mail.log)
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
GW="${1:-http://127.0.0.1:8080}"
MAIL="${2:-data/mesh/logs/mail.log}"
run="$(date +%s%N)"

log() { printf 'rest-test.sh: %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

# call METHOD PATH [JSON] [HEADER…]: prints the HTTP status, a tab, then
# the body on one line.
call() {
  local method="$1" path="$2" body="${3:-}"
  shift 3 || shift $#
  local args=(-sS -X "$method" -H 'content-type: application/json' -w '\t%{http_code}' "$@")
  [[ -n "$body" ]] && args+=(-d "$body")
  local out
  out="$(curl "${args[@]}" "$GW$path")"
  printf '%s\t%s\n' "${out##*$'\t'}" "${out%$'\t'*}"
}

# expect STATUS LINE: fails unless the call answered STATUS; prints the body.
expect() {
  local want="$1" line="$2"
  local got="${line%%$'\t'*}"
  [[ "$got" == "$want" ]] || fail "expected HTTP $want, got $got: ${line#*$'\t'}"
  printf '%s' "${line#*$'\t'}"
}

# field JSON PYTHON-EXPRESSION-ON-d
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($2)" <<<"$1"; }

code_for() {
  local email="$1"
  for _ in $(seq 1 50); do
    local code
    code="$(python3 - "$MAIL" "$email" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
mails = [m for m in text.split("---------- MESSAGE FOLLOWS ----------") if sys.argv[2] in m]
found = re.search(r"^ {4}(\d{6})\s*$", mails[-1], re.M) if mails else None
print(found.group(1) if found else "")
EOF
)"
    [[ -n "$code" ]] && { echo "$code"; return; }
    sleep 0.2
  done
  fail "no code mailed to $email"
}

# person NAME ROLE…: signs up, verifies, signs in; prints the access token.
person() {
  local email="${1,,}-$run@example.test" roles
  roles="$(printf '"%s",' "${@:2}")"
  expect 200 "$(call POST /v1/accounts:signUp \
    "{\"email\":\"$email\",\"password\":\"a long passphrase for $1\",\"displayName\":\"$1\",\"roles\":[${roles%,}]}")" >/dev/null
  local code
  code="$(code_for "$email")"
  expect 200 "$(call POST /v1/accounts:verifyEmail "{\"email\":\"$email\",\"code\":\"$code\"}")" >/dev/null
  local session
  session="$(expect 200 "$(call POST /v1/auth:login \
    "{\"email\":\"$email\",\"password\":\"a long passphrase for $1\",\"deviceName\":\"curl\"}")")"
  field "$session" 'd["tokens"]["accessToken"]'
}

log "public reads"
categories="$(expect 200 "$(call GET /v1/categories)")"
category="$(field "$categories" 'd["categories"][0].get("children", [d["categories"][0]])[0]["id"]')"

log "errors a REST client meets"
# No token on a private RPC: 401 from the gateway, as JSON too.
anonymous="$(expect 401 "$(call GET /v1/me)")"
[[ "$(field "$anonymous" 'd["code"]')" == 16 ]] || fail "GetMe without a token: $anonymous"
# A misspelt query parameter is refused, not ignored.
misspelt="$(expect 400 "$(call GET '/v1/categories?colour=red')")"
[[ "$(field "$misspelt" 'd["message"]')" == *colour* ]] || fail "unknown query parameter: $misspelt"
# A bad request: 400 with the google.rpc.Status as JSON, field violations in it.
bad="$(expect 400 "$(call POST /v1/accounts:signUp '{"email":"not an email","password":"x","displayName":""}')")"
[[ "$(field "$bad" 'd["code"]')" == 3 ]] || fail "INVALID_ARGUMENT is code 3: $bad"
field "$bad" '[v["field"] for x in d["details"] if x["@type"].endswith("BadRequest") for v in x["fieldViolations"]]' |
  grep -q email || fail "no field violation for email: $bad"

log "a freelancer publishes a gig"
# Also a client, to show what buying one's own gig answers.
seller="$(person Sam ROLE_FREELANCER ROLE_CLIENT)"
me="$(expect 200 "$(call GET /v1/me '' -H "authorization: Bearer $seller")")"
[[ "$(field "$me" 'd["account"]["displayName"]')" == Sam ]] || fail "GetMe: $me"
gig="$(expect 200 "$(call POST /v1/gigs "{
  \"title\": \"A logo drawn by hand, over REST $run\",
  \"description\": \"A logo drawn by hand, delivered as SVG and PNG files.\",
  \"categoryId\": \"$category\",
  \"packages\": [{\"tier\": \"PACKAGE_TIER_BASIC\", \"name\": \"Basic\", \"description\": \"One concept\",
                  \"price\": {\"currencyCode\": \"USD\", \"minorUnits\": \"5000\"}, \"deliveryDays\": 3, \"revisions\": 1}]
}" -H "authorization: Bearer $seller" -H "idempotency-key: gig-$run")")"
gig_id="$(field "$gig" 'd["gig"]["id"]')"
expect 200 "$(call POST "/v1/gigs/$gig_id:publish" '{}' -H "authorization: Bearer $seller")" >/dev/null

log "a client finds it and orders it"
buyer="$(person Bea ROLE_CLIENT)"
found="$(expect 200 "$(call POST /v1/gigs:search "{\"query\":\"over REST $run\"}")")"
[[ "$(field "$found" '[g["id"] for g in d.get("gigs", [])]')" == *"$gig_id"* ]] || fail "search did not find the gig: $found"
got="$(expect 200 "$(call GET "/v1/gigs/$gig_id")")"
[[ "$(field "$got" 'd["gig"]["status"]')" == GIG_STATUS_PUBLISHED ]] || fail "GetGig: $got"
order="{\"gigId\":\"$gig_id\",\"packageTier\":\"PACKAGE_TIER_BASIC\",\"quantity\":1}"
placed="$(expect 200 "$(call POST /v1/contracts:placeOrder "$order" -H "authorization: Bearer $buyer" -H "idempotency-key: order-$run")")"
contract_id="$(field "$placed" 'd["contract"]["id"]')"
# The same key again: the same order, not a second one.
again="$(expect 200 "$(call POST /v1/contracts:placeOrder "$order" -H "authorization: Bearer $buyer" -H "idempotency-key: order-$run")")"
[[ "$(field "$again" 'd["contract"]["id"]')" == "$contract_id" ]] || fail "a retried order made another: $again"
contract="$(expect 200 "$(call GET "/v1/contracts/$contract_id" '' -H "authorization: Bearer $buyer")")"
[[ "$(field "$contract" 'd["contract"]["status"]')" == CONTRACT_STATUS_PENDING_FUNDING ]] || fail "GetContract: $contract"
# The seller may not buy their own gig: a precondition, as JSON with its reason.
own="$(expect 400 "$(call POST /v1/contracts:placeOrder "$order" -H "authorization: Bearer $seller")")"
[[ "$(field "$own" 'd["code"]')" == 9 ]] || fail "buying one's own gig: $own"
# A stranger's contract is not found.
stranger="$(person Sol ROLE_CLIENT)"
line="$(call GET "/v1/contracts/$contract_id" '' -H "authorization: Bearer $stranger")"
[[ "${line%%$'\t'*}" == 404 ]] || fail "a stranger read the contract: $line"

log "ok: sign-up, search and order over REST/JSON"
