# tvmkafka container image: a static binary on a distroless base, running as non-root.
#   docker build -t tvmkafka --build-arg VERSION=$(git describe --tags --always) .
FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so code changes do not refetch them.
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY connector ./connector
COPY pipeline ./pipeline
COPY schemas ./schemas
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.buildVersion=${VERSION}" -o /out/tvmkafka ./cmd/tvmkafka

# distroless/static carries CA certificates and a nonroot user, nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tvmkafka /usr/local/bin/tvmkafka
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/tvmkafka"]
CMD ["run"]
