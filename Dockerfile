# syntax=docker/dockerfile:1
# Frevix's one image: the `frevix` binary (any service of the mesh, the
# all-in-one shape, the operator commands) built in the official Rust image
# and run on a slim Debian as an unprivileged numeric user, so Kubernetes can
# enforce runAsNonRoot. Build: docker build -t frevix:dev .

# The toolchain the workspace is built and tested with.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
# Only what the build reads (proto/ is compiled by crates/proto's build script).
COPY Cargo.toml Cargo.lock ./
COPY proto proto
COPY crates crates
COPY services services
# The registry and target directory are cached between builds; the binary is
# copied out of the cache in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p frevix -p frevix-stripe-standin \
 && install -D -m 0755 target/release/frevix /out/frevix \
 && install -D -m 0755 target/release/frevix-stripe-standin /out/frevix-stripe-standin

FROM debian:bookworm-slim
# Unpinned on purpose: the slim image's security updates are wanted.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A home the user owns, for the all-in-one shape's ./data (SQLite, mail).
RUN groupadd --gid 10001 frevix \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/frevix --no-create-home \
      --shell /usr/sbin/nologin frevix \
 && install -d -o 10001 -g 10001 /var/lib/frevix
COPY --from=build /out/frevix /usr/local/bin/frevix
# The Stripe stand-in, for development clusters (k8s/overlays/dev).
COPY --from=build /out/frevix-stripe-standin /usr/local/bin/frevix-stripe-standin
USER 10001:10001
WORKDIR /var/lib/frevix
# all-in-one, identity, marketplace, contracts, payments, messaging
EXPOSE 50050 50051 50052 50053 50054 50055
ENTRYPOINT ["frevix"]
CMD ["--help"]
