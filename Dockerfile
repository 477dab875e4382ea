# One image for every role: `embedops operator | encoder | shard | router`.
# Models are not baked in: an EmbeddingModel names a PVC, a path in an image built FROM this one,
# or an in-cluster URL that an init container downloads and checks against its sha256.
FROM node:20-slim AS build
WORKDIR /app
# onnxruntime-node's install script would fetch a CUDA provider from the web; the CPU binaries
# ship inside the npm package. Native addons (hnswlib-node, better-sqlite3) build against the
# image's own Node headers, which live under /usr/local here (the repo's .npmrc says /usr).
ENV ONNXRUNTIME_NODE_INSTALL=skip npm_config_nodedir=/usr/local
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY controllers controllers
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY bin bin
# The node user (uid 1000) from the base image; numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080 8081
ENTRYPOINT ["node", "/app/bin/embedops.mjs"]
CMD ["--help"]
