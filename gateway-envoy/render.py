#!/usr/bin/env python3
"""Renders Frevix's two Envoy configurations from one description:

- envoy-mesh.yaml: one cluster per service (identity, marketplace,
  messaging, contracts, payments), as in Kubernetes or `make mesh`;
- envoy-all-in-one.yaml: every route to the one `frevix serve all` process.

Both: grpc_web and CORS for browsers, the gRPC-JSON transcoder (every
unary RPC also answers REST/JSON at its `google.api.http` path, from the
descriptor set `buf build` makes of proto/, carried in the file), jwt_authn against identity's JWKS with
the services' own public allow-list, routes by package prefix plus the Stripe
webhook, no timeout on streaming routes and short ones on unary routes,
retries only on idempotent reads, health-checked HTTP/2 clusters, a local
rate limit on identity's sign-in RPCs, JSON access logs, admin on localhost.

Usage: gateway-envoy/render.py [--check]    (--check: fail if the files differ)
       gateway-envoy/render.py --shape all-in-one|mesh --out FILE
Env:   FREVIX_GATEWAY_ORIGINS  comma-separated allowed browser origins
       FREVIX_GATEWAY_PORT, FREVIX_GATEWAY_ADMIN_PORT, FREVIX_GATEWAY_ALL_IN_ONE_PORT,
       FREVIX_GATEWAY_<SERVICE>_HOST, FREVIX_GATEWAY_<SERVICE>_PORT
                              (for --out only; the committed files use defaults)
"""

import base64
import json
import os
import sys
from functools import cache
from pathlib import Path

from buf_build import buf_build

HERE = Path(__file__).resolve().parent

LISTEN_PORT = int(os.environ.get("FREVIX_GATEWAY_PORT", "8080"))
ADMIN_PORT = int(os.environ.get("FREVIX_GATEWAY_ADMIN_PORT", "9901"))
ISSUER = "https://identity.frevix.dev"
AUDIENCE = "frevix"
ORIGINS = os.environ.get(
    "FREVIX_GATEWAY_ORIGINS", "http://localhost:5173,http://127.0.0.1:5173"
).split(",")

# The services whose unary RPCs answer REST/JSON too (google.api.http).
REST_SERVICES = [
    "frevix.identity.v1.IdentityService",
    "frevix.marketplace.v1.MarketplaceService",
    "frevix.contracts.v1.ContractService",
    "frevix.payments.v1.PaymentService",
    "frevix.messaging.v1.MessagingService",
    "frevix.messaging.v1.MediaService",
    "frevix.messaging.v1.NotificationService",
]

# Service → (package prefixes, mesh host, mesh port).
SERVICES = {
    "identity": (["frevix.identity.v1."], "127.0.0.1", 50051),
    "marketplace": (["frevix.marketplace.v1."], "127.0.0.1", 50052),
    "contracts": (["frevix.contracts.v1."], "127.0.0.1", 50053),
    "payments": (["frevix.payments.v1."], "127.0.0.1", 50054),
    "messaging": (["frevix.messaging.v1."], "127.0.0.1", 50055),
}
ALL_IN_ONE = ("127.0.0.1", int(os.environ.get("FREVIX_GATEWAY_ALL_IN_ONE_PORT", "50050")))

# The services' own allow-lists (identity's, marketplace's and contracts'
# PUBLIC_METHODS; a test checks they agree).
PUBLIC_METHODS = [
    "/frevix.identity.v1.IdentityService/SignUp",
    "/frevix.identity.v1.IdentityService/VerifyEmail",
    "/frevix.identity.v1.IdentityService/ResendVerification",
    "/frevix.identity.v1.IdentityService/Login",
    "/frevix.identity.v1.IdentityService/Refresh",
    "/frevix.identity.v1.IdentityService/RequestPasswordReset",
    "/frevix.identity.v1.IdentityService/ResetPassword",
    "/frevix.marketplace.v1.MarketplaceService/ListCategories",
    "/frevix.marketplace.v1.MarketplaceService/SearchSkills",
    "/frevix.marketplace.v1.MarketplaceService/GetFreelancerProfile",
    "/frevix.marketplace.v1.MarketplaceService/GetClientProfile",
    "/frevix.marketplace.v1.MarketplaceService/GetGig",
    "/frevix.marketplace.v1.MarketplaceService/GetJob",
    "/frevix.marketplace.v1.MarketplaceService/SearchGigs",
    "/frevix.marketplace.v1.MarketplaceService/SearchFreelancers",
    "/frevix.marketplace.v1.MarketplaceService/SearchJobs",
    "/frevix.contracts.v1.ContractService/ListReviews",
]
# Paths every server serves without a token (reflection describes every
# Frevix package from any service, so it goes to identity).
PUBLIC_PREFIXES = [
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/.well-known/",
]

# Payments' plain HTTP paths, open without a token: the provider's
# webhooks and the sandbox provider's hosted pages (payments' PUBLIC_PATHS).
PAYMENTS_PATHS = ["/webhooks/stripe", "/sandbox/"]

# Long-lived streams: no route timeout; heartbeats keep them from idling out.
STREAMING = [
    ("/frevix.messaging.v1.MessagingService/Subscribe", "messaging"),
    ("/frevix.messaging.v1.MessagingService/Chat", "messaging"),
    ("/frevix.messaging.v1.MediaService/Upload", "messaging"),
    ("/frevix.messaging.v1.MediaService/Download", "messaging"),
]
# Every RPC callable without a token is rate-limited per client address
# (the address Envoy saw: use_remote_address), never with one bucket shared
# by everyone, so one client cannot deny sign-in or search to the others.
# Identity's (sign-up, sign-in, codes) tightly; the public catalog reads
# loosely. Each as (burst, refill per second).
SIGN_IN_LIMIT = (10, 1)
PUBLIC_READ_LIMIT = (100, 20)
# Distinct client addresses tracked per route (least recently seen forgotten).
CLIENTS_TRACKED = 100_000
# Reads that may be retried: Get*, List*, Search* of every service.
READ_REGEX = r"^/frevix\.{pkg}v1\.[A-Za-z]+/(Get|List|Search)[A-Za-z]*$"


READ_RETRIES = {
    "retry_on": "unavailable,reset,connect-failure,refused-stream",
    "num_retries": 2,
    "per_try_timeout": "4s",
}


def bucket(burst, per_second):
    return {"max_tokens": burst, "tokens_per_fill": per_second, "fill_interval": "1s"}


def per_client_limit(name, burst, per_second):
    """A token bucket per client address (a dynamic descriptor per value of
    the remote_address action); the route-wide bucket is only a
    ceiling for everyone together, far above any one client's."""
    return {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        "stat_prefix": f"{name}_rate_limit",
        "token_bucket": bucket(burst * 1000, per_second * 1000),
        "descriptors": [
            {"entries": [{"key": "remote_address"}], "token_bucket": bucket(burst, per_second)}
        ],
        "rate_limits": [{"actions": [{"remote_address": {}}]}],
        "max_dynamic_descriptors": CLIENTS_TRACKED,
        "rate_limited_as_resource_exhausted": True,
        "filter_enabled": {
            "default_value": {"numerator": 100, "denominator": "HUNDRED"},
            "runtime_key": f"{name}_rate_limit_enabled",
        },
        "filter_enforced": {
            "default_value": {"numerator": 100, "denominator": "HUNDRED"},
            "runtime_key": f"{name}_rate_limit_enforced",
        },
    }


def cluster_name(service, shape):
    return "frevix" if shape == "all-in-one" else service


def route(match, cluster, timeout="15s", **extra):
    action = {"cluster": cluster, "timeout": timeout}
    action.update(extra.pop("action", {}))
    return {"match": match, "route": action, **extra}


def routes(shape):
    out = []
    for path, service in STREAMING:
        out.append(
            route(
                {"path": path},
                cluster_name(service, shape),
                timeout="0s",
                # Streams re-check their caller themselves (they end when the
                # token expires or the session is revoked); a stream that
                # renews its token on the way still reconnects once an hour,
                # resuming from its positions.
                action={
                    "idle_timeout": "3600s",
                    "max_stream_duration": {"max_stream_duration": "3600s"},
                },
            )
        )
    for path in PUBLIC_METHODS:
        service = path.split(".")[1]
        signing_in = service == "identity"
        limit = SIGN_IN_LIMIT if signing_in else PUBLIC_READ_LIMIT
        action = {}
        if not signing_in:
            action["retry_policy"] = READ_RETRIES
        out.append(
            route(
                {"path": path},
                cluster_name(service, shape),
                timeout="15s" if signing_in else "10s",
                action=action,
                typed_per_filter_config={
                    "envoy.filters.http.local_ratelimit": per_client_limit(
                        "sign_in" if signing_in else "public_read", *limit
                    )
                },
            )
        )
    for service, (prefixes, _, _) in SERVICES.items():
        for prefix in prefixes:
            package = prefix.split(".")[1] + r"\."
            out.append(
                route(
                    {"safe_regex": {"regex": READ_REGEX.format(pkg=package)}},
                    cluster_name(service, shape),
                    timeout="10s",
                    action={"retry_policy": READ_RETRIES},
                )
            )
    for service, (prefixes, _, _) in SERVICES.items():
        for prefix in prefixes:
            out.append(route({"prefix": "/" + prefix}, cluster_name(service, shape)))
    for prefix in PAYMENTS_PATHS:
        out.append(route({"prefix": prefix}, cluster_name("payments", shape)))
    out.append(route({"prefix": "/.well-known/"}, cluster_name("identity", shape)))
    for prefix in PUBLIC_PREFIXES[:3]:
        out.append(route({"prefix": prefix}, cluster_name("identity", shape), timeout="0s"))
    return out


def jwt_authn(shape):
    rules = [{"match": {"path": path}} for path in PUBLIC_METHODS]
    rules += [{"match": {"prefix": prefix}} for prefix in PUBLIC_PREFIXES]
    rules += [{"match": {"prefix": prefix}} for prefix in PAYMENTS_PATHS]
    # CORS preflights carry no token.
    rules.append(
        {
            "match": {
                "prefix": "/",
                "headers": [{"name": ":method", "string_match": {"exact": "OPTIONS"}}],
            }
        }
    )
    rules.append({"match": {"prefix": "/"}, "requires": {"provider_name": "frevix"}})
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {
                "frevix": {
                    "issuer": ISSUER,
                    "audiences": [AUDIENCE],
                    "forward": True,
                    "remote_jwks": {
                        "http_uri": {
                            "uri": "http://identity/.well-known/jwks.json",
                            "cluster": cluster_name("identity", shape) + "_jwks",
                            "timeout": "5s",
                        },
                        "cache_duration": "300s",
                        "async_fetch": {"fast_listener": False},
                        "retry_policy": {"num_retries": 3},
                    },
                }
            },
            "rules": rules,
        },
    }


@cache
def descriptor_set():
    """proto/ as a descriptor set with its imports and no source info
    (comments are not needed to transcode), base64 for the config."""
    return base64.b64encode(buf_build("binpb", source_info=False)).decode()


def transcoder():
    """REST/JSON in, gRPC to the services: the request's path and method
    pick the RPC, so every filter after this one (the token check, the
    routes with their timeouts, retries and rate limits) sees the gRPC call
    it becomes. A failed call answers its google.rpc.Status as JSON with
    the HTTP status of its code."""
    return {
        "name": "envoy.filters.http.grpc_json_transcoder",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
            "proto_descriptor_bin": descriptor_set(),
            "services": REST_SERVICES,
            "convert_grpc_status": True,
            "print_options": {"always_print_enums_as_ints": False},
            "request_validation_options": {
                # A misspelt query parameter is an error, not silently ignored.
                "reject_unknown_query_parameters": True,
                "reject_binding_body_field_collisions": True,
            },
            "case_insensitive_enum_parsing": True,
        },
    }


def http_filters(shape):
    return [
        {
            "name": "envoy.filters.http.grpc_web",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb"
            },
        },
        {
            "name": "envoy.filters.http.cors",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"
            },
        },
        transcoder(),
        jwt_authn(shape),
        {
            "name": "envoy.filters.http.local_ratelimit",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                "stat_prefix": "http_local_rate_limiter",
                # gRPC clients read RESOURCE_EXHAUSTED as "slow down", not
                # UNAVAILABLE ("retry now").
                "rate_limited_as_resource_exhausted": True,
            },
        },
        {
            "name": "envoy.filters.http.router",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
            },
        },
    ]


def access_log():
    fields = {
        "time": "%START_TIME%",
        "method": "%REQ(:METHOD)%",
        "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
        "protocol": "%PROTOCOL%",
        "status": "%RESPONSE_CODE%",
        "grpc_status": "%GRPC_STATUS(NUMBER)%",
        "duration_ms": "%DURATION%",
        "bytes_in": "%BYTES_RECEIVED%",
        "bytes_out": "%BYTES_SENT%",
        "upstream": "%UPSTREAM_CLUSTER%",
        "request_id": "%REQ(X-REQUEST-ID)%",
        "client": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
        "flags": "%RESPONSE_FLAGS%",
    }
    return [
        {
            "name": "envoy.access_loggers.stdout",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                "log_format": {"json_format": fields},
            },
        }
    ]


def cors_policy():
    return {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": [{"exact": origin} for origin in ORIGINS],
        "allow_methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "allow_headers": "authorization, content-type, x-grpc-web, x-user-agent, grpc-timeout, idempotency-key, x-request-id",
        "expose_headers": "grpc-status, grpc-message, grpc-status-details-bin, x-request-id",
        "max_age": "86400",
    }


# Gateway answers (no token, rate limited, no route, no upstream…) to REST
# calls as the JSON google.rpc.Status REST clients get from the services
# themselves: HTTP status → gRPC code. gRPC calls get theirs as gRPC.
REST_LOCAL_REPLIES = {400: 3, 401: 16, 403: 7, 404: 5, 413: 8, 429: 8, 503: 14, 504: 4}


def rest_local_replies():
    return {
        "mappers": [
            {
                "filter": {
                    "and_filter": {
                        "filters": [
                            {
                                "status_code_filter": {
                                    "comparison": {
                                        "op": "EQ",
                                        "value": {"default_value": status, "runtime_key": f"rest_reply_{status}"},
                                    }
                                }
                            },
                            # A REST path, or one the transcoder turned into
                            # a gRPC path (it keeps the REST one aside).
                            {
                                "or_filter": {
                                    "filters": [
                                        {"header_filter": {"header": {"name": name, "string_match": {"prefix": "/v1/"}}}}
                                        for name in (":path", "x-envoy-original-path")
                                    ]
                                }
                            },
                        ]
                    }
                },
                "body_format_override": {
                    "json_format": {"code": code, "message": "%LOCAL_REPLY_BODY%"},
                    "content_type": "application/json",
                },
            }
            for status, code in REST_LOCAL_REPLIES.items()
        ]
    }


def listener(shape):
    return {
        "name": "public",
        "address": {"socket_address": {"address": "0.0.0.0", "port_value": LISTEN_PORT}},
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                            "stat_prefix": "public",
                            "codec_type": "AUTO",
                            "generate_request_id": True,
                            # Envoy appends the address it saw to
                            # x-forwarded-for; services trust only that last
                            # entry (the ones before it are the client's word).
                            "use_remote_address": True,
                            # Streams live on heartbeats (every 15 s); an idle
                            # one is cut after an hour.
                            "stream_idle_timeout": "3600s",
                            "request_timeout": "0s",
                            # A client slower than this to send its headers
                            # (slowloris) is cut off.
                            "request_headers_timeout": "10s",
                            "common_http_protocol_options": {"idle_timeout": "3600s"},
                            "http2_protocol_options": {"max_concurrent_streams": 256},
                            "access_log": access_log(),
                            "local_reply_config": rest_local_replies(),
                            "route_config": {
                                "name": "frevix",
                                "virtual_hosts": [
                                    {
                                        "name": "frevix",
                                        "domains": ["*"],
                                        # CORS is answered here; the services
                                        # must not add their own headers too
                                        # (behind Envoy they run with
                                        # server.cors_allowed_origins = []).
                                        "request_headers_to_remove": ["origin"],
                                        "typed_per_filter_config": {
                                            "envoy.filters.http.cors": cors_policy()
                                        },
                                        "routes": routes(shape),
                                    }
                                ],
                            },
                            "http_filters": http_filters(shape),
                        },
                    }
                ]
            }
        ],
    }


def cluster(name, host, port, http2=True, health=True):
    out = {
        "name": name,
        "type": "STRICT_DNS",
        "connect_timeout": "2s",
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {"endpoint": {"address": {"socket_address": {"address": host, "port_value": port}}}}
                    ]
                }
            ],
        },
    }
    if http2:
        out["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {
                    "http2_protocol_options": {
                        "connection_keepalive": {"interval": "30s", "timeout": "10s"}
                    }
                },
            }
        }
    if health:
        out["health_checks"] = [
            {
                "timeout": "2s",
                "interval": "5s",
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                "grpc_health_check": {},
            }
        ]
    return out


def clusters(shape):
    if shape == "all-in-one":
        host, port = ALL_IN_ONE
        return [cluster("frevix", host, port), cluster("frevix_jwks", host, port, http2=False, health=False)]
    out = []
    for service, (_, host, port) in SERVICES.items():
        # In Kubernetes the host is the service's DNS name.
        host = os.environ.get(f"FREVIX_GATEWAY_{service.upper()}_HOST", host)
        port = int(os.environ.get(f"FREVIX_GATEWAY_{service.upper()}_PORT", port))
        out.append(cluster(service, host, port))
    host, port = SERVICES["identity"][1], SERVICES["identity"][2]
    host = os.environ.get("FREVIX_GATEWAY_IDENTITY_HOST", host)
    port = int(os.environ.get("FREVIX_GATEWAY_IDENTITY_PORT", port))
    out.append(cluster("identity_jwks", host, port, http2=False, health=False))
    return out


def config(shape):
    return {
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                        "max_active_downstream_connections": 50000,
                    },
                }
            ]
        },
        "admin": {
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": ADMIN_PORT}}
        },
        "static_resources": {"listeners": [listener(shape)], "clusters": clusters(shape)},
    }


def render(shape):
    return (
        "# Rendered by gateway-envoy/render.py; edit that, not this.\n"
        + json.dumps(config(shape), indent=2)
        + "\n"
    )


def main():
    args = sys.argv[1:]
    if "--out" in args:
        shape = args[args.index("--shape") + 1] if "--shape" in args else "all-in-one"
        Path(args[args.index("--out") + 1]).write_text(render(shape))
        return
    check = "--check" in args
    stale = []
    for shape, name in [("mesh", "envoy-mesh.yaml"), ("all-in-one", "envoy-all-in-one.yaml")]:
        text = render(shape)
        path = HERE / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        sys.exit(f"out of date: {', '.join(stale)}; run gateway-envoy/render.py")


if __name__ == "__main__":
    main()
