# syntax=docker/dockerfile:1
# The ledger as a container. Multi-stage: compile with dev dependencies, install production
# dependencies (better-sqlite3 compiles natively, so that stage has the build tools), and run
# the compiled dist as the unprivileged `node` user. Read models stay local: /app/data.

ARG NODE_IMAGE=node:20.19-bookworm-slim

# --- build: full install, then tsc and the web app (vite) into dist/ ----------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied, and tsc needs no native
# module; the deps stage below builds better-sqlite3 for the runtime.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
COPY scripts ./scripts
COPY web ./web
RUN npm run build

# --- deps: production dependencies only; better-sqlite3 needs python3, make and g++ when no
# prebuilt binary fits, and those tools stay out of the runtime image ---------------------------
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3

# --- runtime ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# HOST=0.0.0.0 so the container's port can be published. The image sets no RUSTCHAIN_NODE and
# deliberately not LEDGER_SANDBOX_PUBLIC: on a non-loopback HOST the ledger refuses to start on its
# embedded sandbox node (whose /__sandbox/ controls fund wallets), so a deployment must name its
# real node (RUSTCHAIN_NODE, RC_ADMIN_KEY), and only a development setup such as
# docker-compose.yml opts in to a sandbox reachable through the published port.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=5580 \
    LEDGER_DATA_DIR=/app/data \
    LEDGER_STORE=esdb \
    EVENTSTORE_CONNECTION_STRING=esdb://kurrentdb:2113?tls=false
WORKDIR /app
# Code stays root-owned and read-only to the process; only the data directory is the node user's.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The data dir holds the event log, the idempotency answers and the generated key: 0700, and the
# ledger keeps every file in it 0600 (it refuses to start with an exposed secret.key).
RUN mkdir -p /app/data && chown node:node /app/data && chmod 0700 /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 5580
# No curl in the slim image; Node's fetch does the probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 5580) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "bin/otc-ledger.js", "serve"]
