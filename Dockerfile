# The yidi image the batch-engine files of deploy/ run (SPEC §14): the binary alone on a
# small Debian. Build: docker build -t yidi:latest .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY sample_data sample_data
RUN cargo build --release --locked --bin yidi

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 yidi
COPY --from=build /src/target/release/yidi /usr/local/bin/yidi
USER yidi
ENTRYPOINT ["yidi"]
