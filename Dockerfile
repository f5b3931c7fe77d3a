# syntax=docker/dockerfile:1
# Stork: the birth-notification hub. Build: `docker build -t stork .`; run the whole stack: `docker compose up`.

# Node.js 24, the Active LTS line (security support to April 2028); Node 20 left support on 30 April 2026.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: compile the TypeScript with the dev dependencies ------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
# tsconfig.build.json compiles src, adapters, test/bench and test/support/synthetic (see .dockerignore).
COPY . .
RUN npm run build

# ---- runtime: production dependencies, compiled code and the files read at run time -------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev
COPY --from=build /app/dist ./dist
# Read relative to the app root (repoRoot = /app): SQL migrations, the OpenAPI description, feed/catchment mappings, the consent rulebook.
COPY adapters/store/migrations ./adapters/store/migrations
COPY adapters/http/openapi.json ./adapters/http/openapi.json
COPY mappings ./mappings
COPY consent-rules ./consent-rules

# Embedded PGlite keeps its data here when DATABASE_URL is not set: mount a volume on /data to keep it.
ENV STORK_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data

USER node
# HTTP API (STORK_HTTP_PORT) and MLLP (STORK_MLLP_PORT).
EXPOSE 8080 2575

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.STORK_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "dist/src/main.js"]
