# Build stage: cgo is needed for github.com/mattn/go-sqlite3.
# Stamp the build: docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) .
# (.git is not sent to the build, so the commit must be passed.)
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/snoop ./cmd/snoop

# Runtime stage: glibc for the cgo binary and CA certificates for HTTPS.
# Build with --build-arg SCREENSHOTS=1 to add Chromium for --screenshots,
# with fonts for the scripts the rules cover (Latin, Greek, Cyrillic,
# Arabic, Persian, Hebrew, Devanagari, Thai, Chinese, Japanese, Korean).
FROM debian:bookworm-slim
ARG SCREENSHOTS=0
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && if [ "$SCREENSHOTS" = "1" ]; then apt-get install -y --no-install-recommends chromium fonts-noto-core fonts-noto-cjk; fi \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --home-dir /data --uid 10001 snoop \
 && mkdir -p /data && chmod 1777 /data
COPY --from=build /out/snoop /usr/local/bin/snoop
# Any uid works (docker run --user "$(id -u):$(id -g)"): nothing needs a
# passwd entry, and HOME is a directory every user may write.
ENV HOME=/tmp
USER 10001
WORKDIR /data
VOLUME /data
EXPOSE 8080
# Checks `snoop serve` on its default port; set SNOOP_HEALTH_URL for another.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["/usr/local/bin/snoop", "health"]
ENTRYPOINT ["/usr/local/bin/snoop"]
CMD ["help"]
