# coopfund in a container (README, "Install for a fund").
#   docker build -t coopfund .
#   docker run -d --name coopfund -p 8080:8080 \
#     -v coopfund-data:/var/lib/coopfund -v /mnt/backup-disk/coopfund:/var/backups/coopfund \
#     -v /srv/coopfund/coopfund.toml:/etc/coopfund/coopfund.toml:ro \
#     -e COOPFUND_ADMIN_PASSWORD=... -e COOPFUND__SMTP__PASSWORD=... coopfund
# HTTPS: put a proxy in front (README, "HTTPS"), or mount the certificate and key read-only at the paths of
# [server.tls] and publish 443 and 80 (the service then needs CAP_NET_BIND_SERVICE, or use ports >= 1024).
# Everything is fetched while building (crates from crates.io, pinned by Cargo.lock); the running
# container downloads nothing.

# --- build ---------------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /build
# Only what the build needs (not target/). Every workspace member and the targets its manifests name.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY config ./config
COPY benches ./benches
COPY tests ./tests
RUN cargo build --release --locked --bin coopfund \
 && install -m 0755 target/release/coopfund /usr/local/bin/coopfund

# --- run -----------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates for SMTP and PostgreSQL over TLS (time zones and SQLite are built into the binary).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system coopfund \
 && useradd --system --gid coopfund --home-dir /var/lib/coopfund --shell /usr/sbin/nologin coopfund \
 && mkdir -p /var/lib/coopfund /var/backups/coopfund /etc/coopfund \
 && chown coopfund:coopfund /var/lib/coopfund /var/backups/coopfund
COPY --from=builder /usr/local/bin/coopfund /usr/local/bin/coopfund
COPY config/production.example.toml /etc/coopfund/coopfund.toml

# The example configuration keeps the SQLite database in /var/lib/coopfund and the daily copies in
# /var/backups/coopfund: two volumes (put the second on another disk). Mount your own
# /etc/coopfund/coopfund.toml made from config/production.example.toml. In a container the service
# must listen on every interface to be reached through the published port.
ENV COOPFUND__SERVER__HOST=0.0.0.0

USER coopfund
WORKDIR /var/lib/coopfund
VOLUME ["/var/lib/coopfund", "/var/backups/coopfund"]
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/coopfund", "--config", "/etc/coopfund/coopfund.toml"]
CMD ["serve"]
