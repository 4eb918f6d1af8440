# syntax=docker/dockerfile:1
# Trikey's image: both function bundles on a slim Node.js 20, run as the unprivileged node user.
#   docker build -t trikey:0.1.0 .
#   docker build --build-arg SES_EMULATOR=true -t trikey:0.1.0-emulator .   (adds the SES emulator)
# Each function is started by its own command, as the Helm chart does:
#   node /app/generate-keys.mjs   or   node /app/dispatch-email.mjs
ARG NODE_IMAGE=node:20.20.2-bookworm-slim
ARG SES_EMULATOR=false

# Build: install from the lockfile and bundle with esbuild. Scripts are skipped at install
# because `prepare` bundles too, before the sources are copied in.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# The SES emulator, only for images built with SES_EMULATOR=true: the emulator package alone,
# at the version package.json pins, with its own production dependencies.
FROM ${NODE_IMAGE} AS emulator-true
WORKDIR /emulator
COPY package.json ./
RUN version="$(node -p "require('./package.json').devDependencies['aws-ses-v2-local']")" \
  && rm package.json \
  && npm install --omit=dev --no-audit --no-fund --no-package-lock "aws-ses-v2-local@${version}"

FROM ${NODE_IMAGE} AS emulator-false
RUN mkdir -p /emulator/node_modules

FROM emulator-${SES_EMULATOR} AS emulator

# Runtime: the bundles (both functions, the bridge and the trikey command, for `trikey keygen`),
# the chunks they load on demand and esbuild's licence files only; no npm on the way to the
# process.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/dist/*.mjs /src/dist/*.LEGAL.txt /app/
COPY --from=build /src/dist/chunks /app/chunks/
COPY --from=emulator /emulator/node_modules /app/node_modules
USER 1000
EXPOSE 8080
CMD ["node", "/app/generate-keys.mjs"]
