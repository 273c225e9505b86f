# syntax=docker/dockerfile:1
# One image per service from one build of the workspace: the three binaries
# share every dependency, so they are compiled together once, and each image
# takes only its own binary. Build from the repository root:
#   docker build --target auth-server -t signet/auth-server .
#   docker build --target blog-svc    -t signet/blog-svc .
#   docker build --target scraper-svc -t signet/scraper-svc .

# --- build: the release binaries, with the workspace's lockfile ---
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# aws-lc-sys (the signing backend) compiles C: it needs a C compiler, cmake and perl.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake perl \
    && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY auth-server auth-server
COPY jwt-verify jwt-verify
COPY blog-svc blog-svc
COPY scraper-svc scraper-svc
COPY signet-service signet-service
COPY e2e e2e
# The binaries compile their --help text in from docs/CONFIGURATION.md.
COPY docs/CONFIGURATION.md docs/CONFIGURATION.md
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin auth-server --bin blog-svc --bin scraper-svc \
    && cp target/release/auth-server target/release/blog-svc target/release/scraper-svc /usr/local/bin/

# --- run: glibc and nothing else; no shell, no package manager; not root ---
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
USER nonroot:nonroot
WORKDIR /home/nonroot
ENV LOG_FORMAT=json
# Liveness and readiness are HTTP: GET /healthz and GET /readyz (the
# orchestrator probes them; the image has no shell to run a HEALTHCHECK in).

FROM runtime AS auth-server
COPY --from=build /usr/local/bin/auth-server /usr/local/bin/auth-server
# Keys come from the database key store (KEY_ENCRYPTION_KEY) or a mounted
# secret (JWT_PRIVATE_KEY_FILE); no key is ever baked into the image.
ENV BIND_ADDR=0.0.0.0:8080 \
    GENERATE_DEV_KEY=false
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/auth-server"]

FROM runtime AS blog-svc
COPY --from=build /usr/local/bin/blog-svc /usr/local/bin/blog-svc
ENV BIND_ADDR=0.0.0.0:8081
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/blog-svc"]

FROM runtime AS scraper-svc
COPY --from=build /usr/local/bin/scraper-svc /usr/local/bin/scraper-svc
ENV BIND_ADDR=0.0.0.0:8082
EXPOSE 8082
ENTRYPOINT ["/usr/local/bin/scraper-svc"]
