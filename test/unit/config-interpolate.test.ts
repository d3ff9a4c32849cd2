import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolateString } from '../../src/config/interpolate.ts';
import { ConfigError, parseConfigText } from '../../src/config/load.ts';

test('interpolateString: variables, defaults, escapes', () => {
  const env = { HOST: 'example.com', EMPTY: '' };
  assert.equal(interpolateString('https://${HOST}/v1', env).value, 'https://example.com/v1');
  assert.equal(interpolateString('${MISSING:-fallback}', env).value, 'fallback');
  assert.equal(interpolateString('${EMPTY:-fallback}', env).value, 'fallback', ':- applies to empty values too');
  assert.equal(interpolateString('${HOST:-fallback}', env).value, 'example.com');
  assert.equal(interpolateString('${MISSING:-}', env).value, '');
  assert.equal(interpolateString('${MISSING:-a:-b c}', env).value, 'a:-b c');
  assert.equal(interpolateString('price: $5 and $$ and $HOST', env).value, 'price: $5 and $$ and $HOST');
  assert.equal(interpolateString('literal $${HOST} here', env).value, 'literal ${HOST} here');
  assert.equal(interpolateString('${HOST}${HOST}', env).value, 'example.comexample.com');
});

test('interpolateString: unset variables without default are reported, set-but-empty apart', () => {
  const env = { EMPTY: '' };
  assert.deepEqual(interpolateString('${A}-${B:-x}-${EMPTY}-${A}', env), { value: '-x--', changed: true, unset: ['A', 'A'], empty: ['EMPTY'], variables: ['A', 'B', 'EMPTY'] });
});

test('interpolateString: malformed references are errors', () => {
  assert.match(interpolateString('${OPEN', {}).error ?? '', /unterminated/);
  assert.match(interpolateString('${1BAD}', {}).error ?? '', /invalid reference '\$\{1BAD\}'/);
  assert.match(interpolateString('${A B}', {}).error ?? '', /expected \$\{NAME\}/);
});

test('values are interpolated on parsed scalars, never changing structure', () => {
  const env = { KEY: 'sk: with colon\nand: newline', PORT: '9000' };
  const { config } = parseConfigText([
    'server:',
    '  port: ${PORT}',
    'providers:',
    '  - name: p',
    '    type: openai',
    '    base_url: http://127.0.0.1:1/v1',
    '    api_key: ${KEY}',
    '    headers: { x-literal: "$${NOT_A_VAR}" }',
  ].join('\n'), 'test.yaml', env);
  assert.equal(config.server.port, 9000, 'interpolated number converted where the schema wants one');
  assert.deepEqual(config.providers[0]!.apiKeys, ['sk: with colon\nand: newline']);
  assert.equal(config.providers[0]!.headers['x-literal'], '${NOT_A_VAR}');
});

test('defaults apply inside the file, and interpolated booleans convert', () => {
  const { config, warnings } = parseConfigText([
    'server:',
    '  port: ${PORT:-18181}',
    '  workers: ${WORKERS:-auto}',
    'auth:',
    '  allow_unauthenticated: ${OPEN:-true}',
  ].join('\n'), 'test.yaml', {});
  assert.equal(config.server.port, 18181);
  assert.equal(config.server.workers, 'auto');
  assert.equal(config.auth.allowUnauthenticated, true);
  assert.deepEqual(warnings, []);
});

test('a quoted number stays a string and is reported', () => {
  assert.throws(() => parseConfigText('server:\n  port: "18080"\n', 'test.yaml', {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems, [{ path: 'server.port', line: 2, column: 9, message: 'must be an integer between 1 and 65535' }]);
    return true;
  });
});

test('an unset ${VAR} without default warns with its location and is not an error', () => {
  const { config, warnings } = parseConfigText([
    'auth:',
    '  keys: ["${SWY_TEST_KEY}"]',
    'providers:',
    '  - name: oa',
    '    type: openai',
    '    api_key: ${SWY_TEST_OPENAI}',
    '    headers:',
    '      x-team: ${SWY_TEST_TEAM}',
  ].join('\n'), 'sw.yaml', {});
  assert.deepEqual(config.auth.keys, []);
  assert.deepEqual(config.providers[0]!.apiKeys, []);
  assert.equal(config.providers[0]!.headers['x-team'], '');
  assert.equal(warnings.length, 4);
  assert.match(warnings[0]!, /^sw\.yaml:2:9 {2}auth\.keys: every key is empty after interpolation, so client authentication is off$/);
  assert.match(warnings[1]!, /^sw\.yaml:2:10 {2}auth\.keys\[0\]: environment variable SWY_TEST_KEY is not set, so the key is dropped/);
  assert.match(warnings[2]!, /^sw\.yaml:6:14 {2}providers\[0\]\.api_key: environment variable SWY_TEST_OPENAI is not set, so the key is dropped/);
  assert.match(warnings[3]!, /^sw\.yaml:8:15 {2}providers\[0\]\.headers\.x-team: environment variable SWY_TEST_TEAM is not set, so it expands to ''/);
});

test('an explicit empty default does not warn', () => {
  const { config, warnings } = parseConfigText('auth:\n  keys: ["${SWY_TEST_KEY:-}"]\n', 'sw.yaml', {});
  assert.deepEqual(config.auth.keys, []);
  assert.deepEqual(warnings, ['sw.yaml:2:9  auth.keys: every key is empty after interpolation, so client authentication is off']);
});

test('mapping keys are not interpolated', () => {
  assert.throws(() => parseConfigText('server:\n  "${A}": 1\n', 'test.yaml', { A: 'port' }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 1);
    assert.equal(error.problems[0]!.path, 'server["${A}"]');
    assert.match(error.problems[0]!.message, /^unknown key/);
    return true;
  });
});

test('a malformed reference is an error with its location', () => {
  assert.throws(() => parseConfigText('server:\n  host: ${HOST\n', 'test.yaml', {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems, [{ path: 'server.host', line: 2, column: 9, message: "unterminated '${' (write '$${' for a literal '${')" }]);
    return true;
  });
});

test('a problem in an interpolated value names its variable', () => {
  const text = [
    'server:',
    '  port: ${SWY_TEST_PORT}',
    'providers:',
    '  - name: unset',
    '    type: openai',
    '    base_url: ${SWY_TEST_BASE}',
    '  - name: empty',
    '    type: openai',
    '    base_url: ${SWY_TEST_EMPTY}',
    '  - name: parts',
    '    type: openai',
    '    base_url: http://${SWY_TEST_HOST}:${SWY_TEST_P}/v1',
    '  - name: bad',
    '    type: openai',
    '    base_url: ${SWY_TEST_URL}',
    '  - name: fine',
    '    type: openai',
    '    base_url: "http://127.0.0.1:1/v1"',
  ].join('\n');
  assert.throws(() => parseConfigText(text, 'sw.yaml', { SWY_TEST_PORT: 'abc', SWY_TEST_EMPTY: '', SWY_TEST_URL: 'ftp://x' }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems.map((problem) => `${problem.line} ${problem.path}: ${problem.message}`), [
      '2 server.port: must be an integer between 1 and 65535; the value comes from ${SWY_TEST_PORT}',
      '6 providers[0].base_url: ${SWY_TEST_BASE} is not set: must be a non-empty string',
      '9 providers[1].base_url: ${SWY_TEST_EMPTY} is empty: must be a non-empty string',
      "12 providers[2].base_url: ${SWY_TEST_HOST} and ${SWY_TEST_P} are not set: must be an http(s) URL such as http://127.0.0.1:11434/v1 (got 'http://:/v1')",
      '15 providers[3].base_url: must be an http or https URL, not ftp; the value comes from ${SWY_TEST_URL}',
    ]);
    return true;
  });
});
