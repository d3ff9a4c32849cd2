#!/usr/bin/env bash
# Heavy test-only tools, kept out of devDependencies so a user's `npm install` never downloads
# them: installed into .tools/ (git-ignored). `.ci/run` calls this; run it yourself to run the
# browser tests locally. The browser itself is Debian's chromium (`apt-get install chromium`);
# playwright-core drives it and downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools
if [ ! -f .tools/package.json ]; then
  printf '{ "name": "switchyard-test-tools", "private": true }\n' > .tools/package.json
fi
npm install --prefix .tools --no-audit --no-fund --no-save --silent \
  playwright-core@1.65.2
echo "test tools in .tools/: playwright-core $(node -p "require('./.tools/node_modules/playwright-core/package.json').version")"
