#!/usr/bin/env bash
# Heavy test-only tools, kept out of devDependencies so a user's `npm install` never downloads
# them: installed into .tools/ (git-ignored). `.ci/run` calls this; run it yourself to run the
# browser and agent-CLI tests locally. Exact versions, so a CLI release never changes a test run.
#
# - playwright-core drives Debian's chromium (`apt-get install chromium`) and downloads nothing.
# - @anthropic-ai/claude-code and @openai/codex are the real agent CLIs (test/e2e/agent-clis.test.ts).
#   Each is a small wrapper package plus a native binary in a per-platform optional dependency
#   (about 400 MB each on linux-x64). Codex has no install script; Claude Code's postinstall
#   (install.cjs) only copies its platform binary over the bin/claude.exe placeholder. Neither
#   downloads anything at install time; at run time the tests keep them on loopback
#   (test/helpers/agent-cli.ts).
# - opencode-ai is the opencode CLI (test/integration/agent-cli-opencode.test.ts): a wrapper plus
#   a native binary (about 180 MB) in per-platform optional dependencies. Its postinstall
#   (postinstall.mjs) links the platform binary to bin/opencode.exe; only if none was installed
#   does it run `npm install` of that platform package itself. At run time it would fetch
#   models.dev and npm-install @opencode-ai/plugin into its config directory: the test helper
#   turns both off.
# - @google/gemini-cli is one JS bundle (bundle/gemini.js, run with Node) and no dependencies of its
#   own. Its optional dependencies have install scripts: @github/keytar copies a prebuilt binary
#   from its own package (no download); node-pty@1.0.0 runs `node-gyp rebuild`, which compiles
#   against local Node headers or else downloads them from nodejs.org, and may fail harmlessly
#   (optional, and unused here: @lydell/node-pty ships prebuilt binaries). At run time the tests
#   keep it on loopback (settings in test/helpers/agent-cli.ts).
# - kubernetes-models and @kubernetes-models/prometheus-operator are the Kubernetes API schemas
#   (about 24 MB) the offline manifest check (test/unit/deploy-manifests.test.ts) validates
#   deploy/kubernetes/ against. Plain JS packages, no install scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools
if [ ! -f .tools/package.json ]; then
  printf '{ "name": "switchyard-test-tools", "private": true }\n' > .tools/package.json
fi
npm install --prefix .tools --no-audit --no-fund --no-save --silent \
  playwright-core@1.65.2 \
  @anthropic-ai/claude-code@2.1.332 \
  @openai/codex@0.171.0 \
  opencode-ai@1.18.33 \
  @google/gemini-cli@0.61.0 \
  kubernetes-models@5.1.0 \
  @kubernetes-models/prometheus-operator@6.0.0
version() { node -p "require('./.tools/node_modules/$1/package.json').version"; }
echo "test tools in .tools/: playwright-core $(version playwright-core), @anthropic-ai/claude-code $(version @anthropic-ai/claude-code), @openai/codex $(version @openai/codex), opencode-ai $(version opencode-ai), @google/gemini-cli $(version @google/gemini-cli), kubernetes-models $(version kubernetes-models), @kubernetes-models/prometheus-operator $(version @kubernetes-models/prometheus-operator)"
