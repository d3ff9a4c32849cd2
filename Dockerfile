# syntax=docker/dockerfile:1
# Switchyard's container image. Build from the repository root:
#   docker build -t switchyard:0.1.0 .
# Run (a config file is required: see deploy/switchyard.yaml and docs/deployment.md):
#   docker run --rm -p 127.0.0.1:18080:18080 -v "$PWD/switchyard.yaml:/etc/switchyard/switchyard.yaml:ro" \
#     -e SWITCHYARD_KEY -e OPENAI_API_KEY switchyard:0.1.0
#
# The Node.js version is the one package.json pins for `npm start` (the `node` dev dependency,
# resolved in package-lock.json); test/unit/deploy-manifests.test.ts keeps the two equal.
ARG NODE_VERSION=24.21.0

# Production dependencies only. No package the gateway runs needs an install script (the test
# checks the lockfile), so none is run.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
LABEL org.opencontainers.image.title="Switchyard" \
      org.opencontainers.image.description="A fast, local-first AI gateway: one endpoint for every model provider." \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    NODE_COMPILE_CACHE=/app/.compile-cache \
    SWITCHYARD_CONFIG=/etc/switchyard/switchyard.yaml \
    SWITCHYARD_STATE_DIR=/var/lib/switchyard
WORKDIR /app
# The TypeScript sources run as they are (Node's type stripping): no build step. Files stay
# owned by root, read-only to the gateway's user.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY ui ./ui
COPY deploy/container ./deploy/container
RUN mkdir -p /app/.compile-cache /var/lib/switchyard /etc/switchyard \
 && chown 1000:1000 /app/.compile-cache /var/lib/switchyard
# The base image's `node` user, by number so that Kubernetes can check runAsNonRoot.
USER 1000:1000
# Node's compile cache is per user id: filled here as the user the container runs as, every
# start is warm (~30 MB less memory per process, no TypeScript stripping at start).
RUN node deploy/container/warm-compile-cache.mjs
EXPOSE 18080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "/app/deploy/container/healthcheck.mjs"]
# `npm start`'s Node flags (the test keeps them equal). SIGTERM drains: no new connections,
# in-flight requests and streams finish for up to server.drain_timeout_ms, then exit 0.
ENTRYPOINT ["node", "--max-semi-space-size=16", "--no-allocation-site-pretenuring", "/app/bin/switchyard.js"]
# 0.0.0.0 inside the container, so the published port reaches it. The gateway still refuses to
# listen there without client keys (auth.keys, or admin keys with storage) unless the config
# says auth.allow_unauthenticated: true; the image never does.
CMD ["serve", "--host", "0.0.0.0"]
