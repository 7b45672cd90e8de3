# syntax=docker/dockerfile:1.7
# One Dockerfile for every dibs deployable. The command picks which one runs:
#   docker build -t dibs .                 → all of them:  docker run dibs intake|routing|notification|analytics|migrate
#   docker build --build-arg SERVICE=routing -t dibs-routing .
#                                          → only routing (+ migrate), the smallest image to ship per service
#   docker build --target console -t dibs-console .
#                                          → the web console (CONTRACT §8): its page and server, no service code
# Production images refuse a missing or development AUTH_JWT_SECRET (NODE_ENV=production).
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS pnpm
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN corepack enable && corepack prepare pnpm@10.34.9 --activate
WORKDIR /src

# Dependencies first: this layer is reused until the lockfile changes.
FROM pnpm AS deps
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
# Local fixes to dependencies (pnpm patchedDependencies), applied when they are installed.
COPY patches ./patches
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch --frozen-lockfile

FROM deps AS build
COPY . .
# --ignore-scripts: nothing the build needs has an install script (the root `node` package would
# download a second Node binary; the image already is Node 24).
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --ignore-scripts
RUN pnpm exec tsc -b services/intake services/routing services/notification services/analytics libs/db
# The console: its server (tsc) and its page (Vite, bundling @dibs/client, Preact and Chart.js).
RUN pnpm --filter @dibs/console run build
# Pruned, production-only trees, one per deployable (like `pnpm deploy --prod`, which also resolves
# the workspace libs into real folders); src/, tests and build metadata are dropped.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    for pkg in intake routing notification analytics; do \
      pnpm --filter "@dibs/$pkg" deploy --prod --legacy --offline "/out/$pkg"; \
    done \
 && pnpm --filter @dibs/db deploy --prod --legacy --offline /out/migrate \
 && for root in /out/*/ /out/*/node_modules/.pnpm/@dibs+*/node_modules/@dibs/*/; do \
      rm -rf "${root}src" "${root}test" "${root}"tsconfig*.json "${root}dist/.tsbuildinfo"; \
      find "${root}dist" -name '*.map' -delete 2>/dev/null || true; \
    done \
 && cp deploy/docker/entrypoint.sh deploy/docker/healthcheck.mjs /out/
# The console's tree apart from /out: the services' images do not carry it, nor it theirs. Only its
# server's dist/ and the built page (dist/web) stay.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm --filter @dibs/console deploy --prod --legacy --offline /out-console/console \
 && for root in /out-console/console/ /out-console/console/node_modules/.pnpm/@dibs+*/node_modules/@dibs/*/; do \
      rm -rf "${root}src" "${root}test" "${root}web" "${root}test-results" "${root}"tsconfig*.json \
        "${root}vite.config.mjs" "${root}dist/.tsbuildinfo" "${root}dist/web-types"; \
      find "${root}dist" -name '*.map' -delete 2>/dev/null || true; \
    done \
 && cp deploy/docker/healthcheck.mjs /out-console/

# Keeps only the chosen deployable's tree (each one carries its own copy of its dependencies).
FROM build AS select
ARG SERVICE=all
RUN if [ "$SERVICE" != all ]; then \
      [ -d "/out/$SERVICE" ] || { echo "SERVICE must be all, intake, routing, notification or analytics" >&2; exit 1; }; \
      find /out -mindepth 1 -maxdepth 1 -type d ! -name "$SERVICE" ! -name migrate -exec rm -rf {} +; \
    fi

# The web console's image: `docker build --target console` (the default target stays `runtime`).
FROM ${NODE_IMAGE} AS console
ENV NODE_ENV=production DIBS_SERVICE=console
WORKDIR /app
COPY --from=build --chown=root:root /out-console /app
USER 1000:1000
EXPOSE 3004
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/console/dist/main.js"]

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=all
# DIBS_SERVICE is the default command of a single-service image; "all" needs one (intake, routing, …).
ENV NODE_ENV=production DIBS_SERVICE=${SERVICE}
WORKDIR /app
COPY --from=select --chown=root:root /out /app
# The code is owned by root and read-only to the process; it runs as the image's `node` user, numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 3000 3001 3002 3003
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["/app/entrypoint.sh"]
CMD []
