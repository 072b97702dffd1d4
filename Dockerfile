# Build stage: cgo is needed for github.com/mattn/go-sqlite3.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/snoop ./cmd/snoop

# Runtime stage: glibc for the cgo binary and CA certificates for HTTPS.
# Build with --build-arg SCREENSHOTS=1 to add Chromium for --screenshots.
FROM debian:bookworm-slim
ARG SCREENSHOTS=0
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && if [ "$SCREENSHOTS" = "1" ]; then apt-get install -y --no-install-recommends chromium; fi \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /data --uid 10001 snoop
COPY --from=build /out/snoop /usr/local/bin/snoop
USER snoop
WORKDIR /data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/snoop"]
CMD ["help"]
