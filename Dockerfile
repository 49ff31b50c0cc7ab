# Multi-stage: build the TypeScript in one image, run the compiled server from a slim one as a non-root user.
# `lts-slim` follows the current Node LTS; pin it (e.g. --build-arg NODE_IMAGE=node:24-slim) for repeatable builds.
ARG NODE_IMAGE=node:lts-slim
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# .npmrc: legacy-peer-deps, without which npm ci refuses this lock file (see the commit that added it).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY server ./server
# The web app (app/, with its Vite configuration): `npm run build` builds it into dist/app beside the server.
COPY app ./app
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# HOST: the server's own default is loopback, which nothing outside the container reaches, -p included.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The CCP guide and the R4 definitions: seeded and served at start, and REQUIRED_PROFILES' default file.
COPY conformance ./conformance
# TERMS_FILE's default, config/terms-of-use.txt: without it the server cannot start.
COPY config ./config
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The README's start command; --ignore-scripts skips its prestart build, already done in the build stage.
CMD ["npm", "start", "--ignore-scripts"]
