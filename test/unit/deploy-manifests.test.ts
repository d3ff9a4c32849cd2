// The deployment files (Dockerfile, deploy/compose.yaml, deploy/kubernetes/) checked without
// Docker or a cluster: every YAML parses, the Kubernetes manifests pass their API schemas
// (kubernetes-models: the Kubernetes OpenAPI schemas compiled to validators, offline), the shipped
// gateway configs pass the gateway's own config check with the environment the manifests give
// them, and the numbers that must agree across files do (drain timeout against grace periods,
// ports, probe paths, the Node version, the shared Redis and PostgreSQL).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Copy, DockerfileParser } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/load.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { checkExposure } from '../../src/cli/serve.ts';
import { startGateway } from '../../src/main.ts';
import { pino } from 'pino';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** Seconds a preStop pause plus a drain may not use up: the exit itself (log flush, ≤ 1 s) and slack. */
const EXIT_MARGIN_S = 5;

type Manifest = Record<string, any>;

function yamlFiles(directory: string): string[] {
  return readdirSync(join(root, directory), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

function parseYaml(path: string): Manifest[] {
  const documents = parseAllDocuments(read(path), { merge: true });
  assert.ok(Array.isArray(documents), `${path}: not a YAML stream`);
  for (const document of documents) {
    assert.deepEqual(document.errors.map((error) => error.message), [], `${path}: YAML errors`);
    assert.deepEqual(document.warnings.map((warning) => warning.message), [], `${path}: YAML warnings`);
  }
  return documents.map((document) => document.toJS({ maxAliasCount: 100 }) as Manifest).filter((value) => value !== null);
}

const compose = parseYaml('deploy/compose.yaml')[0]!;
const gatewayServices = Object.keys(compose.services).filter((name) => name.startsWith('gateway-')).sort();
const kubernetes = yamlFiles('deploy/kubernetes').flatMap((path) => parseYaml(path).map((manifest) => ({ path, manifest })));
const byKind = (kind: string): Manifest => {
  const found = kubernetes.filter((entry) => entry.manifest.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind} under deploy/kubernetes`);
  return found[0]!.manifest;
};
const deployment = byKind('Deployment');
const container = deployment.spec.template.spec.containers[0];
const dockerfile = DockerfileParser.parse(read('Dockerfile'));
const instructions = (keyword: string) => dockerfile.getInstructions().filter((instruction) => instruction.getKeyword() === keyword);
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
const lockfile = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string; dev?: boolean; hasInstallScript?: boolean }> };

/** Compose's own interpolation (`${VAR}`, `${VAR:-default}`, `${VAR:?message}`) over `env`. */
function composeValue(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_match, name: string, operator: string | undefined, argument: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (operator === ':-' || operator === '-') return argument;
    if (operator === ':?' || operator === '?') throw new Error(`compose would refuse: ${name} is required (${argument})`);
    return '';
  });
}

/** What the user exports before `docker compose up` (placeholders, never real keys). */
const USER_ENV = { SWITCHYARD_KEY: 'test-client-key', OPENAI_API_KEY: 'test-openai-key' };

function composeEnvironment(service: string, env: Record<string, string> = USER_ENV): Record<string, string> {
  const environment = compose.services[service].environment as Record<string, string>;
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, composeValue(String(value), env)]));
}

/** The gateway config a container would load: the file its SWITCHYARD_CONFIG names, from the mounted directory. */
function composeConfig(service: string): GatewayConfig {
  const env = composeEnvironment(service);
  const mount = (compose.services[service].volumes as string[]).map((volume) => volume.split(':')).find(([, target]) => env.SWITCHYARD_CONFIG!.startsWith(`${target}/`));
  assert.ok(mount !== undefined, `${service}: SWITCHYARD_CONFIG ${env.SWITCHYARD_CONFIG} is not on a mounted directory`);
  const file = join('deploy', mount[0]!, env.SWITCHYARD_CONFIG!.slice(mount[1]!.length + 1));
  const loaded = parseConfigText(read(file), file, env);
  assert.deepEqual(loaded.warnings, [], `${file} with ${service}'s environment: warnings`);
  return loaded.config;
}

/** The config in the ConfigMap with the environment the Deployment gives the pod (Secret values filled in). */
function kubernetesConfig(secretValues: Record<string, string>): GatewayConfig {
  const env: Record<string, string> = { POD_NAMESPACE: 'default' };
  const secret = byKind('Secret');
  for (const name of Object.keys(secret.stringData)) env[name] = secretValues[name] ?? secret.stringData[name];
  const text = byKind('ConfigMap').data['switchyard.yaml'] as string;
  return parseConfigText(text, 'deploy/kubernetes/configmap.yaml#switchyard.yaml', env).config;
}

function durationSeconds(text: string): number {
  const parts = [...String(text).matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)];
  assert.ok(parts.length > 0, `not a compose duration: ${text}`);
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  return parts.reduce((total, [, value, suffix]) => total + Number(value) * unit[suffix!]!, 0);
}

const nodeFlags = (command: readonly string[]): string[] => command.slice(1, command.findIndex((part) => part.endsWith('bin/switchyard.js')));
const execForm = (instruction: { getArgumentsContent(): string | null }): string[] => JSON.parse(instruction.getArgumentsContent()!) as string[];

test('every YAML file under deploy/ parses without errors or warnings', () => {
  const files = yamlFiles('deploy');
  assert.ok(files.length >= 9, `expected the compose, gateway and Kubernetes files, found ${files.join(', ')}`);
  for (const file of files) assert.ok(parseYaml(file).length > 0, `${file} is empty`);
});

// The Kubernetes schemas (~24 MB) are test-only tools in .tools/ (scripts/install-test-tools.sh),
// not devDependencies: locally the check skips and says how to get them; with
// SWITCHYARD_TEST_MANIFESTS set (as .ci/run does) it fails rather than skips.
const toolModules = join(root, '.tools/node_modules');
const schemasMissing = !existsSync(join(toolModules, 'kubernetes-models/package.json')) ||
  !existsSync(join(toolModules, '@kubernetes-models/prometheus-operator/package.json'));
const schemasRequired = (process.env.SWITCHYARD_TEST_MANIFESTS ?? '') !== '';
const schemaSkip = schemasMissing && !schemasRequired
  ? 'the Kubernetes schemas are not installed: run `bash scripts/install-test-tools.sh` (puts them in .tools/)' : false;

test('the Kubernetes manifests pass their API schemas (offline validators)', { skip: schemaSkip }, async () => {
  assert.ok(!schemasMissing, 'SWITCHYARD_TEST_MANIFESTS is set but .tools/ has no Kubernetes schemas: run `bash scripts/install-test-tools.sh`');
  const models: Record<string, string> = {
    'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
    'v1/Secret': 'kubernetes-models/v1/Secret',
    'v1/Service': 'kubernetes-models/v1/Service',
    'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
    'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
    'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    'monitoring.coreos.com/v1/ServiceMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
  };
  const modelOf = async (manifest: Manifest) => {
    const module = models[`${manifest.apiVersion}/${manifest.kind}`];
    assert.ok(module !== undefined, `no schema known for ${manifest.apiVersion} ${manifest.kind}`);
    // the packages export these subpaths to `import` only, as `./<subpath>.js`
    return (await import(pathToFileURL(join(toolModules, `${module}.js`)).href))[manifest.kind] as new (data: Manifest) => { validate(): void };
  };
  const kinds = new Set<string>();
  for (const { path, manifest } of kubernetes) {
    const Model = await modelOf(manifest);
    assert.doesNotThrow(() => new Model(manifest).validate(), `${path}: ${manifest.kind} ${manifest.metadata?.name}`);
    kinds.add(manifest.kind);
  }
  assert.deepEqual([...kinds].sort(), ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceMonitor']);
  // the control: the same validator refuses a broken copy
  const Deployment = await modelOf(deployment);
  const broken = structuredClone(deployment);
  broken.spec.replicas = 'three';
  delete broken.spec.template.spec.containers[0].name;
  assert.throws(() => new Deployment(broken).validate(), /replicas must be integer|must have required property 'name'/);
});

test('the Kubernetes objects refer to each other: selectors, names, the Secret', () => {
  const labels = deployment.spec.template.metadata.labels as Record<string, string>;
  const matches = (selector: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);
  assert.ok(matches(deployment.spec.selector.matchLabels), 'Deployment selector');
  assert.ok(matches(byKind('Service').spec.selector), 'Service selector');
  assert.ok(matches(byKind('PodDisruptionBudget').spec.selector.matchLabels), 'PodDisruptionBudget selector');
  const hpa = byKind('HorizontalPodAutoscaler');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
  assert.ok(hpa.spec.minReplicas >= deployment.spec.replicas && deployment.spec.replicas === 3, 'three replicas, which the HPA keeps as its floor');
  assert.ok(container.resources.requests.cpu !== undefined, 'a CPU request: the HPA measures utilization against it');
  const monitor = byKind('ServiceMonitor');
  assert.deepEqual(monitor.spec.selector.matchLabels, byKind('Service').metadata.labels);
  const port = byKind('Service').spec.ports.find((entry: Manifest) => entry.name === monitor.spec.endpoints[0].port);
  assert.ok(port !== undefined, 'the ServiceMonitor names a port of the Service');
  const secret = byKind('Secret');
  assert.deepEqual(container.envFrom, [{ secretRef: { name: secret.metadata.name } }]);
  assert.equal(monitor.spec.endpoints[0].authorization.credentials.name, secret.metadata.name);
  assert.ok(monitor.spec.endpoints[0].authorization.credentials.key in secret.stringData);
  const configMap = byKind('ConfigMap');
  const volume = deployment.spec.template.spec.volumes.find((entry: Manifest) => entry.configMap?.name === configMap.metadata.name);
  const mount = container.volumeMounts.find((entry: Manifest) => entry.name === volume?.name);
  assert.equal(mount?.subPath, undefined, 'the ConfigMap is mounted as a directory (a subPath mount never sees updates)');
  assert.equal(`${mount.mountPath}/switchyard.yaml`, '/etc/switchyard/switchyard.yaml', 'where the image looks (SWITCHYARD_CONFIG)');
  // every variable the config uses comes from the Secret or the Deployment
  const provided = new Set([...Object.keys(secret.stringData), ...container.env.map((entry: Manifest) => entry.name)]);
  const used = [...(configMap.data['switchyard.yaml'] as string).matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]!);
  assert.deepEqual([...new Set(used)].filter((name) => !provided.has(name)), []);
});

test('the Secret ships placeholders only, and with them the gateway refuses to start unauthenticated', () => {
  const secret = byKind('Secret');
  assert.equal(secret.data, undefined);
  for (const [name, value] of Object.entries(secret.stringData)) assert.equal(value, '', `${name} must be an empty placeholder`);
  assert.ok(!kubernetes.some(({ path, manifest }) => manifest.kind === 'Secret' && !path.includes('/secret/')), 'the Secret lives apart from what `kubectl apply -f deploy/kubernetes/` applies');
  const unfilled = kubernetesConfig({});
  assert.equal(unfilled.server.host, '0.0.0.0');
  assert.match(checkExposure(unfilled) ?? '', /Refusing to listen on 0\.0\.0\.0 with no client keys/);
});

test('the ConfigMap\'s config passes the config check with the Secret filled in', () => {
  const config = kubernetesConfig({ SWITCHYARD_KEY: 'client', SWITCHYARD_METRICS_KEY: 'prometheus', SWITCHYARD_DATABASE_URL: 'postgres://switchyard:secret@postgres:5432/switchyard', SWITCHYARD_REDIS_URL: 'redis://valkey:6379' });
  assert.equal(checkExposure(config), undefined);
  assert.equal(config.server.port, container.ports[0].containerPort);
  assert.equal(config.server.workers, 1);
  assert.equal(config.auth.allowUnauthenticated, false);
  assert.equal(config.state.redis, 'redis://valkey:6379');
  assert.equal(config.storage.url, 'postgres://switchyard:secret@postgres:5432/switchyard');
  assert.ok(config.server.allowedHosts.includes('switchyard.default.svc.cluster.local'), 'the Service\'s in-cluster name');
  const metricsKey = config.auth.clients?.find((client) => typeof client !== 'string' && client.name === 'metrics');
  assert.deepEqual(metricsKey, { key: 'prometheus', name: 'metrics', limits: { models: [] } });
});

test('deploy/switchyard.yaml passes the config check with the environment compose.yaml sets', () => {
  assert.ok(gatewayServices.length === 3, `three gateway instances, found ${gatewayServices.join(', ')}`);
  for (const service of gatewayServices) {
    const config = composeConfig(service);
    assert.equal(checkExposure(config), undefined, `${service} starts`);
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.auth.allowUnauthenticated, false);
    assert.deepEqual(config.auth.keys, [USER_ENV.SWITCHYARD_KEY]);
  }
  assert.throws(() => composeEnvironment('gateway-1', {}), /SWITCHYARD_KEY is required/, 'compose refuses to start without a client key');
});

test('the three instances share one Redis/Valkey and one PostgreSQL, which compose runs', () => {
  const configs = gatewayServices.map((service) => composeConfig(service));
  const redis = new Set(configs.map((config) => config.state.redis));
  const database = new Set(configs.map((config) => config.storage.url));
  const prefixes = new Set(configs.map((config) => config.state.keyPrefix));
  assert.equal(redis.size, 1);
  assert.equal(database.size, 1);
  assert.equal(prefixes.size, 1);
  const [redisUrl] = redis;
  const [databaseUrl] = database;
  assert.ok(redisUrl !== undefined && databaseUrl !== undefined && configs.every((config) => config.storage.enabled));
  assert.ok(new URL(redisUrl).hostname in compose.services, `${redisUrl} names a compose service`);
  const postgres = new URL(databaseUrl);
  assert.ok(postgres.hostname in compose.services, `${postgres.host} names a compose service`);
  const postgresEnv = Object.fromEntries(Object.entries(compose.services[postgres.hostname].environment as Record<string, string>).map(([name, value]) => [name, composeValue(value, USER_ENV)]));
  assert.equal(decodeURIComponent(postgres.username), postgresEnv.POSTGRES_USER);
  assert.equal(decodeURIComponent(postgres.password), postgresEnv.POSTGRES_PASSWORD);
  assert.equal(postgres.pathname.slice(1), postgresEnv.POSTGRES_DB);
  for (const service of gatewayServices) {
    const dependsOn = compose.services[service].depends_on as Record<string, { condition: string }>;
    assert.equal(dependsOn[new URL(redisUrl).hostname]?.condition, 'service_healthy');
    assert.equal(dependsOn[postgres.hostname]?.condition, 'service_healthy');
  }
});

test('grace periods outlast the drain: compose stop_grace_period and Kubernetes terminationGracePeriodSeconds', () => {
  for (const service of gatewayServices) {
    const drainS = composeConfig(service).server.drainTimeoutMs / 1000;
    assert.ok(drainS >= 60, `${service}: a drain long enough for model streams (${drainS} s)`);
    const grace = durationSeconds(compose.services[service].stop_grace_period);
    assert.ok(grace >= drainS + EXIT_MARGIN_S, `${service}: stop_grace_period ${grace} s < drain ${drainS} s + ${EXIT_MARGIN_S} s`);
  }
  const lb = compose.services.lb;
  assert.equal(lb.stop_signal, 'SIGQUIT', "nginx's graceful stop");
  assert.ok(durationSeconds(lb.stop_grace_period) >= durationSeconds(compose.services['gateway-1'].stop_grace_period));

  const drainS = kubernetesConfig({ SWITCHYARD_KEY: 'client' }).server.drainTimeoutMs / 1000;
  const preStop = container.lifecycle.preStop.exec.command as string[];
  assert.equal(preStop[0], 'sleep');
  const pauseS = Number(preStop[1]);
  assert.ok(pauseS >= 1 && pauseS <= 30, `a preStop pause while endpoints are removed (${pauseS} s)`);
  const grace = deployment.spec.template.spec.terminationGracePeriodSeconds as number;
  assert.ok(grace >= pauseS + drainS + EXIT_MARGIN_S, `terminationGracePeriodSeconds ${grace} < preStop ${pauseS} + drain ${drainS} + ${EXIT_MARGIN_S}`);
  assert.equal(byKind('PodDisruptionBudget').spec.maxUnavailable, 1);
  assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
});

test('one port everywhere: config, Dockerfile, compose, nginx, Kubernetes, the healthcheck', () => {
  const port = composeConfig('gateway-1').server.port;
  assert.equal(port, 18080);
  assert.deepEqual(instructions('EXPOSE').map((instruction) => instruction.getArgumentsContent()), [String(port)]);
  assert.match(read('deploy/container/healthcheck.mjs'), new RegExp(`'http://127\\.0\\.0\\.1:${port}/readyz'`));
  const nginx = read('deploy/nginx.conf');
  const upstreams = [...nginx.matchAll(/^\s*server\s+([\w.-]+):(\d+)\b/gm)].map((match) => [match[1], Number(match[2])]);
  assert.deepEqual(upstreams, gatewayServices.map((service) => [service, port]), 'nginx balances over exactly the gateway services');
  const listen = Number(/^\s*listen\s+(\d+);/m.exec(nginx)?.[1]);
  assert.ok((compose.services.lb.ports as string[]).some((mapping) => composeValue(mapping, {}).endsWith(`:${listen}`)), 'the published port is the one nginx listens on');
  assert.equal(container.ports[0].containerPort, port);
  const service = byKind('Service');
  assert.equal(service.spec.ports[0].targetPort, container.ports[0].name);
  assert.equal(service.spec.ports[0].port, port);
});

test('nginx streams and outwaits the gateway: no buffering, timeouts above the gateway\'s, body limit as large', () => {
  const nginx = read('deploy/nginx.conf');
  const directive = (name: string) => new RegExp(`^\\s*${name}\\s+([^;]+);`, 'm').exec(nginx)?.[1]?.trim();
  assert.equal(directive('proxy_buffering'), 'off');
  assert.equal(directive('proxy_http_version'), '1.1');
  assert.equal(directive('proxy_set_header Connection'), '""');
  const config = composeConfig('gateway-1');
  const seconds = (text: string | undefined) => Number(/^(\d+)s$/.exec(text ?? '')?.[1]);
  const gatewayWaitS = Math.max(...config.providers.map((provider) => Math.max(provider.timeouts.firstByteMs, provider.timeouts.idleMs))) / 1000;
  assert.ok(seconds(directive('proxy_read_timeout')) > gatewayWaitS, 'the gateway answers its own timeouts (504) before nginx gives up');
  assert.equal(Number(/^(\d+)m$/.exec(directive('client_max_body_size') ?? '')?.[1]) * 1024 * 1024, config.server.bodyLimitBytes);
  assert.ok(seconds(directive('keepalive_timeout')) * 1000 < config.server.keepAliveTimeoutMs, 'nginx drops idle upstream connections before the gateway does');
  // one failure may be a request that met a kept-alive connection a draining instance just closed
  // (retried elsewhere); taking an instance out for it left all three out during a rolling restart
  const maxFails = [...nginx.matchAll(/^\s*server\s+\S+.*\bmax_fails=(\d+)/gm)].map((match) => Number(match[1]));
  assert.equal(maxFails.length, gatewayServices.length);
  for (const value of maxFails) assert.ok(value >= 3, `max_fails=${value}: one reset from a draining instance must not take a server out`);
  assert.match(directive('proxy_next_upstream') ?? '', /\berror\b.*\bnon_idempotent\b/, 'a POST refused or reset before any answer goes to the next instance');
});

test('the probes\' paths are public gateway endpoints, and the metrics key scrapes /metrics but calls no model', async () => {
  const shipped = kubernetesConfig({ SWITCHYARD_KEY: 'client', SWITCHYARD_METRICS_KEY: 'prometheus' });
  const config = { ...shipped, storage: { ...shipped.storage, enabled: false } } as GatewayConfig;
  const running = await startGateway({ config, logger: pino({ level: 'silent' }), discover: false, host: '127.0.0.1', port: 0 });
  try {
    const status = async (path: string, key?: string, init: RequestInit = {}) => {
      const response = await fetch(`${running.url}${path}`, { ...init, headers: { ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}), ...(init.headers as Record<string, string> | undefined) } });
      await response.arrayBuffer();
      return response.status;
    };
    const probes = [container.readinessProbe, container.livenessProbe, container.startupProbe].map((probe: Manifest) => probe.httpGet.path as string);
    assert.deepEqual([...new Set(probes)].sort(), ['/healthz', '/readyz']);
    for (const path of probes) assert.equal(await status(path), 200, `${path} answers without a key`);
    assert.match(read('deploy/container/healthcheck.mjs'), /\/readyz'/);
    const scrape = byKind('ServiceMonitor').spec.endpoints[0].path as string;
    assert.equal(await status(scrape), 401, `${scrape} needs a key`);
    assert.equal(await status(scrape, 'prometheus'), 200, `${scrape} with the metrics key`);
    const chat = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) };
    assert.equal(await status('/v1/chat/completions', 'prometheus', chat), 403, 'the metrics key may call no model');
  } finally {
    await running.close();
  }
});

test('the Dockerfile: lint-clean, multi-stage, pinned Node, production dependencies, non-root, healthcheck on /readyz', () => {
  const problems = lintDockerfile(read('Dockerfile')).map((diagnostic) => `line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`);
  assert.deepEqual(problems, []);
  const froms = instructions('FROM').map((instruction) => instruction.getArgumentsContent()!);
  assert.ok(froms.length >= 2, 'multi-stage');
  const nodeVersion = /^ARG NODE_VERSION=(\S+)$/m.exec(read('Dockerfile'))?.[1];
  for (const from of froms) assert.match(from, /^node:\$\{NODE_VERSION\}-bookworm-slim\b/);
  // the Node `npm start` runs: the `node` dev dependency as the lockfile resolved it
  const locked = lockfile.packages['node_modules/node']?.version;
  assert.equal(nodeVersion, locked, 'the image runs the Node version package-lock.json pins for npm start');
  assert.equal(nodeVersion?.split('.')[0], packageJson.devDependencies.node!.replace(/^\D*/, '').split('.')[0]);
  const runs = instructions('RUN').map((instruction) => instruction.getArgumentsContent()!);
  assert.ok(runs.some((run) => /\bnpm ci\b.*--omit=dev/.test(run)), 'npm ci --omit=dev');
  const users = instructions('USER').map((instruction) => instruction.getArgumentsContent()!);
  assert.match(users.at(-1) ?? '', /^[1-9]\d*(:\d+)?$/, 'the last USER is a numeric non-root user');
  assert.equal(String(deployment.spec.template.spec.securityContext.runAsUser), users.at(-1)!.split(':')[0], 'Kubernetes runs the image\'s user');
  const healthcheck = instructions('HEALTHCHECK')[0]?.getArgumentsContent() ?? '';
  assert.match(healthcheck, /CMD \["node", "\/app\/deploy\/container\/healthcheck\.mjs"\]/, 'the healthcheck runs Node itself, no curl');
  assert.deepEqual(compose.services['gateway-1'].healthcheck.test, ['CMD', 'node', '/app/deploy/container/healthcheck.mjs']);
  const entrypoint = execForm(instructions('ENTRYPOINT')[0]!);
  assert.deepEqual(nodeFlags(entrypoint), nodeFlags(packageJson.scripts.start!.split(/\s+/)), "the ENTRYPOINT's Node flags are npm start's (and so the compile cache's)");
  assert.deepEqual(execForm(instructions('CMD')[0]!), ['serve', '--host', '0.0.0.0']);
  assert.deepEqual(container.args, ['serve', '--host', '0.0.0.0']);
});

test('the image installs no package with an install script, and its build context holds what it copies and nothing else', () => {
  const scripted = Object.entries(lockfile.packages).filter(([path, entry]) => path !== '' && entry.dev !== true && entry.hasInstallScript === true).map(([path]) => path);
  assert.deepEqual(scripted, [], 'npm ci --ignore-scripts would leave these broken');
  const patterns = read('.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  assert.equal(patterns[0], '*', 'an allowlist: everything is out unless named');
  const included = patterns.slice(1).filter((pattern) => pattern.startsWith('!')).map((pattern) => pattern.slice(1).replace(/\/$/, ''));
  const sources = instructions('COPY')
    .filter((instruction) => instruction instanceof Copy && instruction.getFromFlag() === null)
    .flatMap((instruction) => instruction.getArguments().map((argument) => argument.getValue()).slice(0, -1));
  for (const source of sources) assert.ok(included.includes(source.replace(/\/$/, '')), `COPY ${source} is in the build context`);
  for (const excluded of ['node_modules', '.git', 'test', 'bench', '.tools', 'docs']) assert.ok(!included.some((path) => path === excluded || path.startsWith(`${excluded}/`)), `${excluded} stays out of the build context`);
});
