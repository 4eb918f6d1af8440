// The Helm chart, rendered and linted by a real Helm 4 (test/helm.ts): every object checked
// against the Kubernetes and Knative schemas, and the facts no schema holds checked here: the
// Triggers' event types, the probes' paths, the env each function reads, secrets kept out of
// ConfigMaps, the standard labels, and clear refusals of bad values.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Broker, Trigger } from '@kubernetes-models/knative/eventing.knative.dev/v1';
import { Service as KnativeService } from '@kubernetes-models/knative/serving.knative.dev/v1';
import { SinkBinding } from '@kubernetes-models/knative/sources.knative.dev/v1';
import { createDispatchEmailApp } from '../functions/dispatch-email/app.ts';
import { loadConfig as loadDispatchEmailConfig } from '../functions/dispatch-email/config.ts';
import { Ledger } from '../functions/dispatch-email/ledger.ts';
import { createGenerateKeysApp } from '../functions/generate-keys/app.ts';
import { loadConfig as loadGenerateKeysConfig } from '../functions/generate-keys/config.ts';
import { createVoider } from '../functions/generate-keys/voider.ts';
import { EventTypes, parseTransportKeys, silentLogger } from '../shared/index.ts';
import { chartDir, openHelm, repoRoot, type Helm } from './helm.ts';

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // Each kind's own fields are read through the helpers below.
  [field: string]: any;
}

interface TriggerFile {
  triggers: {
    name: string;
    filter: { attributes: Record<string, string> };
    subscriber: string;
    delivery: Record<string, unknown> & { deadLetterSink?: { ref?: string; uri?: string } };
    parallelism: number;
  }[];
}

const release = 'trikey';
const roleAnnotations = { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ses' };
const namespace = 'keys';
const allOnFile = join(chartDir, 'ci', 'all-on-values.yaml');
const standardLabels = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
  'helm.sh/chart',
];
// Schemas from the kubernetes-models packages; RabbitmqBrokerConfig has none there.
const models: Record<string, { new (data: any): { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'serving.knative.dev/v1/Service': KnativeService,
  'eventing.knative.dev/v1/Broker': Broker,
  'eventing.knative.dev/v1/Trigger': Trigger,
  'sources.knative.dev/v1/SinkBinding': SinkBinding,
};

let helm: Helm;
let allOn: any;
let triggerFile: TriggerFile;

test.before(async () => {
  helm = await openHelm();
  allOn = parseYaml(await readFile(allOnFile, 'utf8'));
  triggerFile = JSON.parse(await readFile(join(chartDir, 'files', 'triggers.json'), 'utf8'));
});

test.after(async () => {
  await helm?.close();
});

/** Renders the chart with extra helm arguments and parses every object. */
async function render(...args: string[]): Promise<KubeObject[]> {
  const result = await helm.run(['template', release, chartDir, '--namespace', namespace, ...args]);
  assert.is(result.code, 0, `helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

/** Runs helm template expecting a refusal; returns what Helm printed on standard error. */
async function refusal(...args: string[]): Promise<string> {
  const result = await helm.run(['template', release, chartDir, '--namespace', namespace, ...args]);
  assert.is.not(result.code, 0, 'helm template accepted the values');
  return result.stderr;
}

function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} was rendered`);
  return found;
}

function ofKind(objects: KubeObject[], kind: string, apiVersion?: string): KubeObject[] {
  return objects.filter(
    (object) => object.kind === kind && (!apiVersion || object.apiVersion === apiVersion),
  );
}

function container(knativeService: KubeObject): any {
  return knativeService.spec.template.spec.containers[0];
}

function decode(secret: KubeObject): Record<string, string> {
  const data: Record<string, string> = secret.data ?? {};
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
  );
}

/**
 * The environment Kubernetes would give a function's container: its ConfigMap's data, then each
 * env entry, values read from the rendered Secrets; plus what Knative and the SinkBinding set.
 */
function containerEnv(objects: KubeObject[], knativeService: KubeObject): Record<string, string> {
  const spec = container(knativeService);
  const env: Record<string, string> = { PORT: '8080', K_SINK: 'http://broker-ingress.test/' };
  for (const source of spec.envFrom ?? []) {
    Object.assign(env, find(objects, 'ConfigMap', source.configMapRef.name).data);
  }
  for (const entry of spec.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef;
    env[entry.name] = ref ? decode(find(objects, 'Secret', ref.name))[ref.key]! : entry.value;
  }
  return env;
}

/** The variables a function's config.ts reads: the keys of its valibot ConfigSchema. */
async function variablesRead(functionName: string): Promise<string[]> {
  const source = await readFile(join(repoRoot, 'functions', functionName, 'config.ts'), 'utf8');
  const start = source.indexOf('const ConfigSchema =');
  assert.ok(start >= 0, `functions/${functionName}/config.ts has a ConfigSchema`);
  const schema = source.slice(start, source.indexOf('\n}', start) + 1 || undefined);
  const names = [...schema.matchAll(/^ +([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1]!);
  assert.ok(names.includes('TRIKEY_TRANSPORT_KEYS'), `read ${names.length} names`);
  return names;
}

/** Every value's dotted path; resources and annotations maps count as one value each. */
function valuePaths(values: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const path = prefix + key;
    const isGroup =
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.keys(value).length > 0 &&
      !['resources', 'annotations'].includes(key);
    return isGroup ? valuePaths(value as Record<string, unknown>, `${path}.`) : [path];
  });
}

/** Keys in values.yaml set on their own line with no comment line right above them. */
function uncommentedKeys(text: string): string[] {
  const lines = text.split('\n');
  const missing: string[] = [];
  let wholeBlockIndent = -1;
  lines.forEach((line, index) => {
    const match = /^( *)([A-Za-z][\w-]*):(.*)$/.exec(line);
    if (!match) return;
    const indent = match[1]!.length;
    // Inside a map documented as a whole, such as resources.
    if (wholeBlockIndent >= 0 && indent > wholeBlockIndent) return;
    wholeBlockIndent = -1;
    const commented = lines[index - 1]?.trim().startsWith('#') ?? false;
    if (match[3]!.trim() === '') {
      if (commented) wholeBlockIndent = indent;
    } else if (!commented) {
      missing.push(match[2]!);
    }
  });
  return missing;
}

test('helm lint --strict passes with the default values', async () => {
  const result = await helm.run(['lint', '--strict', chartDir]);
  assert.is(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test('helm lint --strict passes with every option on', async () => {
  const result = await helm.run(['lint', '--strict', chartDir, '-f', allOnFile]);
  assert.is(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /0 chart\(s\) failed/);
});

test('every rendered object fits its Kubernetes or Knative schema, in every configuration', async () => {
  const configurations = [
    [],
    ['-f', allOnFile],
    ['--set', 'gateway.enabled=false', '--set', 'generateKeys.minScale=0'],
    ['--set', 'broker.connectionSecret=rabbit-uri', '--set', 'broker.rabbitmqCluster.name='],
    ['--set', 'transportKeys.existingSecret=keys', '--set', 'ses.credentials.existingSecret=ses'],
    ['--set-json', `ses.serviceAccount.annotations=${JSON.stringify(roleAnnotations)}`],
  ];
  for (const args of configurations) {
    const objects = await render(...args);
    assert.ok(objects.length >= 10, `${objects.length} objects for ${args.join(' ')}`);
    for (const object of objects) {
      const key = `${object.apiVersion}/${object.kind}`;
      if (key === 'eventing.knative.dev/v1alpha1/RabbitmqBrokerConfig') continue;
      const Model = models[key];
      assert.ok(Model, `${key} ${object.metadata.name} is a kind the chart tests know`);
      try {
        new Model(object).validate();
      } catch (error) {
        assert.unreachable(`${key} ${object.metadata.name}: ${(error as Error).message}`);
      }
    }
  }
});

test('the RabbitmqBrokerConfig names the cluster, or the connection Secret, and the queue type', async () => {
  const byCluster = find(await render(), 'RabbitmqBrokerConfig', release);
  assert.is(byCluster.apiVersion, 'eventing.knative.dev/v1alpha1');
  assert.equal(byCluster.spec, {
    rabbitmqClusterReference: { name: 'rabbitmq', namespace },
    queueType: 'quorum',
  });

  const bySecret = await render(
    '--set',
    'broker.connectionSecret=rabbit-uri',
    '--set',
    'broker.rabbitmqCluster.name=',
    '--set',
    'broker.vhost=trikey',
  );
  assert.equal(find(bySecret, 'RabbitmqBrokerConfig', release).spec, {
    rabbitmqClusterReference: { connectionSecret: { name: 'rabbit-uri' } },
    queueType: 'quorum',
    vhost: 'trikey',
  });

  const allOnConfig = find(await render('-f', allOnFile), 'RabbitmqBrokerConfig', 'keys');
  assert.equal(allOnConfig.spec.rabbitmqClusterReference, {
    name: 'rabbitmq',
    namespace: 'rabbitmq-system',
  });
  assert.is(allOnConfig.spec.queueType, 'classic');
});

test('the broker is a RabbitMQBroker whose config is that RabbitmqBrokerConfig', async () => {
  const broker = find(await render(), 'Broker', release);
  assert.is(broker.metadata.annotations?.['eventing.knative.dev/broker.class'], 'RabbitMQBroker');
  assert.equal(broker.spec.config, {
    apiVersion: 'eventing.knative.dev/v1alpha1',
    kind: 'RabbitmqBrokerConfig',
    name: release,
  });
});

test('both settings for the broker at once, or neither, are refused by name', async () => {
  const both = await refusal('--set', 'broker.connectionSecret=rabbit-uri');
  assert.match(both, /broker: set rabbitmqCluster\.name or connectionSecret, not both/);
});

test("the Triggers' filter types are the code's EventTypes and chart/files/triggers.json's", async () => {
  const triggers = ofKind(await render(), 'Trigger');
  const rendered = triggers.map((trigger) => trigger.spec.filter.attributes.type as string).sort();
  const inFile = triggerFile.triggers.map((trigger) => trigger.filter.attributes.type!).sort();
  assert.equal(rendered, inFile);
  const known: string[] = Object.values(EventTypes);
  for (const type of rendered) assert.ok(known.includes(type), `${type} is one of EventTypes`);

  const subscriberOf = (type: string) =>
    triggers.find((trigger) => trigger.spec.filter.attributes.type === type)?.spec.subscriber.ref;
  assert.equal(subscriberOf(EventTypes.ceremonyRequested), {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    name: `${release}-generate-keys`,
  });
  assert.is(subscriberOf(EventTypes.shareIssued).name, `${release}-dispatch-email`);
  assert.is(subscriberOf(EventTypes.ceremonyVoided).name, `${release}-dispatch-email`);
});

test('each Trigger carries its delivery spec and parallelism from the trigger file', async () => {
  const objects = await render();
  for (const entry of triggerFile.triggers) {
    const trigger = find(objects, 'Trigger', `${release}-${entry.name}`);
    assert.is(trigger.spec.broker, release);
    assert.equal(trigger.spec.filter.attributes, entry.filter.attributes);
    const { deadLetterSink: _sink, ...delivery } = entry.delivery;
    const { deadLetterSink: _rendered, ...renderedDelivery } = trigger.spec.delivery;
    assert.equal(renderedDelivery, delivery);
    const parallelism = trigger.metadata.annotations?.['rabbitmq.eventing.knative.dev/parallelism'];
    assert.is(parallelism, String(entry.parallelism));
  }
});

test('every Trigger has a dead-letter sink: its own from the file, else the default', async () => {
  for (const [args, defaultSink] of [
    [[], { ref: `${release}-dispatch-email`, uri: '/dead-letter' }],
    [['-f', allOnFile], { uri: 'https://dead-letters.example.com/trikey' }],
  ] as const) {
    const objects = await render(...args);
    const prefix = args.length ? 'keys' : release;
    for (const entry of triggerFile.triggers) {
      const sink = find(objects, 'Trigger', `${prefix}-${entry.name}`).spec.delivery.deadLetterSink;
      assert.ok(sink, `Trigger ${entry.name} has a deadLetterSink`);
      const own = entry.delivery.deadLetterSink;
      const expected = own ? { ref: `${prefix}-${own.ref}`, uri: own.uri } : defaultSink;
      assert.is(sink.uri, expected.uri, `dead-letter uri of ${entry.name}`);
      if ('ref' in expected) {
        assert.equal(sink.ref, {
          apiVersion: 'serving.knative.dev/v1',
          kind: 'Service',
          name: expected.ref,
        });
      } else {
        assert.is(sink.ref, undefined);
      }
    }
  }
  assert.ok(
    triggerFile.triggers.some((entry) => !entry.delivery.deadLetterSink),
    'the file has a trigger without its own sink, so the default is exercised',
  );
});

test('a dead-letter sink that is neither a function path nor an absolute URL is refused', async () => {
  const stderr = await refusal('--set', 'triggers.defaultDeadLetterSink.ref=');
  assert.match(stderr, /without a ref, uri must be an absolute http\(s\) URL/);
});

test('the SinkBinding gives generate-keys the broker as K_SINK', async () => {
  const binding = find(await render(), 'SinkBinding', `${release}-generate-keys`);
  assert.equal(binding.spec.subject, {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    name: `${release}-generate-keys`,
  });
  assert.equal(binding.spec.sink.ref, {
    apiVersion: 'eventing.knative.dev/v1',
    kind: 'Broker',
    name: release,
  });
});

test('the env each function gets is accepted by its own config loader, values intact', async () => {
  const objects = await render('-f', allOnFile);
  const generateKeysService = find(objects, 'Service', 'keys-generate-keys');
  const generateKeysEnv = containerEnv(objects, generateKeysService);
  // The token hashes are a file from a Secret volume, which exists only in the pod.
  const mount = container(generateKeysService).volumeMounts[0];
  assert.is(generateKeysEnv.TRIKEY_API_TOKENS_FILE, `${mount.mountPath}/hashes.txt`);
  assert.equal(generateKeysService.spec.template.spec.volumes[0].secret, {
    secretName: 'trikey-token-hashes',
    items: [{ key: 'hashes.txt', path: 'hashes.txt' }],
  });
  delete generateKeysEnv.TRIKEY_API_TOKENS_FILE;

  const generateKeys = loadGenerateKeysConfig(generateKeysEnv);
  assert.is(generateKeys.host, '0.0.0.0');
  assert.is(generateKeys.maxCustodians, 255);
  assert.is(generateKeys.requireCustodianKeys, true);
  assert.is(generateKeys.defaultLocale, 'es');
  assert.is(generateKeys.publishTimeoutMs, 60_000);
  assert.is(generateKeys.maxBodyBytes, 131_072);
  assert.is(generateKeys.transportKeys[0]?.id, 't1');
  assert.equal(generateKeys.auth.allowedSources, allOn.generateKeys.allowedSources);
  assert.ok(generateKeys.auth.tokens, 'authentication is on');
  assert.equal(generateKeys.rateLimit, { perMinute: 1_000_000, burst: 50 });
  assert.is(generateKeys.requestTimeoutMs, 120_000);
  assert.is(generateKeysEnv.TRIKEY_API_TOKENS, allOn.generateKeys.apiTokens.value);

  const dispatchEmailEnv = containerEnv(objects, find(objects, 'Service', 'keys-dispatch-email'));
  const dispatchEmail = loadDispatchEmailConfig(dispatchEmailEnv);
  assert.is(dispatchEmail.ses.region, 'eu-west-1');
  assert.is(dispatchEmail.ses.endpoint, `http://keys-ses-emulator.${namespace}.svc:8005`);
  assert.is(dispatchEmail.ses.configurationSet, 'trikey-shares');
  assert.is(dispatchEmail.maxBodyBytes, 2_097_152);
  assert.is(dispatchEmail.dedupe.maxEntries, 1_000_000);
  assert.is(dispatchEmailEnv.AWS_ACCESS_KEY_ID, allOn.ses.credentials.accessKeyId);
});

test('every variable the functions read is set by the chart, except those Knative sets', async () => {
  const objects = await render('-f', allOnFile);
  const setByPlatform = ['PORT', 'K_SINK', 'AWS_REGION'];
  for (const name of ['generate-keys', 'dispatch-email']) {
    const env = containerEnv(objects, find(objects, 'Service', `keys-${name}`));
    for (const variable of await variablesRead(name)) {
      if (setByPlatform.includes(variable)) continue;
      assert.ok(variable in env, `${name} reads ${variable}, which the chart does not set`);
    }
    assert.not.ok('PORT' in container(find(objects, 'Service', `keys-${name}`)).env, 'no PORT');
  }
});

test('env numbers are exact strings, never in scientific notation', async () => {
  const objects = await render('-f', allOnFile);
  const dispatchEmail = find(objects, 'ConfigMap', 'keys-dispatch-email').data;
  assert.is(dispatchEmail.TRIKEY_DEDUPE_MAX_ENTRIES, '1000000');
  assert.is(dispatchEmail.TRIKEY_MAX_BODY_BYTES, '2097152');
  assert.is(dispatchEmail.TRIKEY_DEDUPE_WINDOW_SECONDS, '2592000');
  const byDefault = find(await render(), 'ConfigMap', `${release}-dispatch-email`).data;
  assert.is(byDefault.TRIKEY_MAX_BODY_BYTES, '1048576');
  const set = await render('--set', 'dispatchEmail.dedupeMaxEntries=9999999');
  assert.is(
    find(set, 'ConfigMap', `${release}-dispatch-email`).data.TRIKEY_DEDUPE_MAX_ENTRIES,
    '9999999',
  );

  for (const configMap of ofKind(objects, 'ConfigMap')) {
    for (const [key, value] of Object.entries<unknown>(configMap.data)) {
      assert.type(value, 'string', `${configMap.metadata.name} ${key} is a string`);
      assert.not.match(value as string, /^\d+(\.\d+)?e[+-]\d+$/, `${key} is not ${value}`);
    }
  }
});

test('no Secret value appears in any ConfigMap', async () => {
  const objects = await render('-f', allOnFile);
  const secretValues = [
    allOn.transportKeys.value,
    allOn.generateKeys.apiTokens.value,
    allOn.ses.credentials.accessKeyId,
    allOn.ses.credentials.secretAccessKey,
  ] as string[];
  const inSecrets = ofKind(objects, 'Secret').flatMap((secret) => Object.values(decode(secret)));
  for (const value of secretValues) assert.ok(inSecrets.includes(value), 'rendered as a Secret');

  for (const configMap of ofKind(objects, 'ConfigMap')) {
    const text = JSON.stringify(configMap);
    for (const value of [...secretValues, ...inSecrets]) {
      assert.not.ok(text.includes(value), `${configMap.metadata.name} holds a secret value`);
      const encoded = Buffer.from(value).toString('base64');
      assert.not.ok(text.includes(encoded), `${configMap.metadata.name} holds one in base64`);
    }
  }
});

test('every object has the standard labels with the release, chart and version', async () => {
  for (const args of [[], ['-f', allOnFile]]) {
    for (const object of await render(...args)) {
      const labels = object.metadata.labels ?? {};
      const where = `${object.kind} ${object.metadata.name}`;
      for (const label of standardLabels) assert.ok(labels[label], `${where} has ${label}`);
      assert.is(labels['app.kubernetes.io/name'], 'trikey', where);
      assert.is(labels['app.kubernetes.io/instance'], release, where);
      assert.is(labels['app.kubernetes.io/version'], '0.1.0', where);
      assert.is(labels['app.kubernetes.io/part-of'], 'trikey', where);
      assert.is(labels['app.kubernetes.io/managed-by'], 'Helm', where);
      assert.is(labels['helm.sh/chart'], 'trikey-0.1.0', where);
    }
  }
});

test("the probes point at health paths the functions' apps serve", async () => {
  const objects = await render('-f', allOnFile);
  const generateKeysService = find(objects, 'Service', 'keys-generate-keys');
  const { TRIKEY_API_TOKENS_FILE: _file, ...generateKeysEnv } = containerEnv(
    objects,
    generateKeysService,
  );
  const generateKeysConfig = loadGenerateKeysConfig(generateKeysEnv);
  const emit = async () => ({ ok: true, status: 202 }) as const;
  const voider = createVoider({
    ...generateKeysConfig,
    emit,
    giveUpAfterMs: 0,
    logger: silentLogger,
  });
  const generateKeys = createGenerateKeysApp({
    ...generateKeysConfig,
    logger: silentLogger,
    emit,
    voider,
  });

  const dispatchEmailService = find(objects, 'Service', 'keys-dispatch-email');
  const dispatchEmailConfig = loadDispatchEmailConfig(containerEnv(objects, dispatchEmailService));
  const dispatchEmail = createDispatchEmailApp({
    ...dispatchEmailConfig,
    logger: silentLogger,
    ledger: new Ledger(dispatchEmailConfig.dedupe),
    send: async () => ({ ok: true, messageId: 'unused' }),
  });

  for (const [service, app] of [
    [generateKeysService, generateKeys],
    [dispatchEmailService, dispatchEmail],
  ] as const) {
    const spec = container(service);
    for (const probe of [spec.readinessProbe, spec.livenessProbe]) {
      assert.is(probe.httpGet.port, undefined, 'Knative fills in the port');
      const response = await app.request(probe.httpGet.path);
      assert.is(response.status, 204, `${service.metadata.name} GET ${probe.httpGet.path}`);
    }
    assert.is.not(spec.readinessProbe.httpGet.path, spec.livenessProbe.httpGet.path);
  }

  // The dead-letter sink's path is a route of dispatch-email: a bare POST is refused as the
  // wrong media type, not as an unknown path.
  const deadLetter = await dispatchEmail.request('/dead-letter', { method: 'POST', body: '{}' });
  assert.is(deadLetter.status, 415);
});

test('both functions run the image and bundle asked for, locked down, scaled as set', async () => {
  const objects = await render('-f', allOnFile);
  for (const [name, values] of [
    ['generate-keys', allOn.generateKeys],
    ['dispatch-email', allOn.dispatchEmail],
  ] as const) {
    const service = find(objects, 'Service', `keys-${name}`);
    assert.is(service.apiVersion, 'serving.knative.dev/v1');
    const spec = container(service);
    assert.is(spec.image, 'registry.example.com/platform/trikey:0.1.0-test');
    assert.equal(spec.command, ['node', `/app/${name}.mjs`]);
    assert.equal(spec.securityContext, {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const template = service.spec.template;
    assert.is(template.spec.containerConcurrency, values.containerConcurrency);
    assert.equal(template.spec.imagePullSecrets, [{ name: 'regcred' }]);
    const annotations = template.metadata.annotations;
    assert.is(annotations['autoscaling.knative.dev/min-scale'], String(values.minScale));
    assert.is(annotations['autoscaling.knative.dev/max-scale'], String(values.maxScale));
    assert.is(annotations['autoscaling.knative.dev/target'], String(values.target));
  }
  const generateKeys = container(find(objects, 'Service', 'keys-generate-keys'));
  assert.equal(generateKeys.resources, allOn.generateKeys.resources);
  const image = container(find(await render(), 'Service', `${release}-generate-keys`)).image;
  assert.is(image, 'trikey:0.1.0', 'the tag defaults to the appVersion');
});

test('dispatch-email and, unless asked otherwise, generate-keys stay off the Knative ingress', async () => {
  const visibility = (objects: KubeObject[], name: string) =>
    find(objects, 'Service', name).metadata.labels?.['networking.knative.dev/visibility'];
  const objects = await render();
  assert.is(visibility(objects, `${release}-generate-keys`), 'cluster-local');
  assert.is(visibility(objects, `${release}-dispatch-email`), 'cluster-local');
  assert.is(visibility(await render('-f', allOnFile), 'keys-generate-keys'), undefined);
});

test("the gateway is a NodePort to generate-keys' queue-proxy at the configured port", async () => {
  const objects = await render('-f', allOnFile);
  const gateway = find(objects, 'Service', 'keys-gateway');
  assert.is(gateway.apiVersion, 'v1');
  assert.is(gateway.spec.type, 'NodePort');
  assert.is(gateway.spec.externalTrafficPolicy, 'Local');
  assert.equal(gateway.spec.ports, [
    { name: 'http', protocol: 'TCP', port: 80, targetPort: 'queue-port', nodePort: 32080 },
  ]);
  const podLabels = find(objects, 'Service', 'keys-generate-keys').spec.template.metadata.labels;
  for (const [label, value] of Object.entries<string>(gateway.spec.selector)) {
    assert.is(podLabels[label], value, `generate-keys pods carry ${label}`);
  }
  assert.is(gateway.spec.selector['app.kubernetes.io/component'], 'generate-keys');

  const off = await render('--set', 'gateway.enabled=false', '--set', 'generateKeys.minScale=0');
  assert.is(ofKind(off, 'Service', 'v1').length, 0, 'no gateway when gateway.enabled=false');
});

test('a gateway in front of a generate-keys that may scale to zero is refused', async () => {
  const stderr = await refusal('--set', 'generateKeys.minScale=0');
  assert.match(stderr, /gateway\.enabled needs generateKeys\.minScale of 1 or more/);
});

test('existingSecret options replace the Secrets the chart would make', async () => {
  const objects = await render(
    '--set',
    'transportKeys.existingSecret=vault-keys',
    '--set',
    'transportKeys.existingSecretKey=keys',
    '--set',
    'generateKeys.apiTokens.existingSecret=vault-tokens',
    '--set',
    'ses.credentials.existingSecret=vault-ses',
    '--set',
    'ses.credentials.accessKeyIdKey=id',
  );
  assert.is(ofKind(objects, 'Secret').length, 0, 'the chart makes no Secret');
  const refs = (name: string) =>
    Object.fromEntries(
      container(find(objects, 'Service', `${release}-${name}`)).env.map((entry: any) => [
        entry.name,
        entry.valueFrom.secretKeyRef,
      ]),
    );
  assert.equal(refs('generate-keys'), {
    TRIKEY_TRANSPORT_KEYS: { name: 'vault-keys', key: 'keys' },
    TRIKEY_API_TOKENS: { name: 'vault-tokens', key: 'TRIKEY_API_TOKENS' },
  });
  assert.equal(refs('dispatch-email'), {
    TRIKEY_TRANSPORT_KEYS: { name: 'vault-keys', key: 'keys' },
    AWS_ACCESS_KEY_ID: { name: 'vault-ses', key: 'id' },
    AWS_SECRET_ACCESS_KEY: { name: 'vault-ses', key: 'AWS_SECRET_ACCESS_KEY' },
  });
});

test('without a transport key the chart makes one that the functions accept', async () => {
  const secret = find(await render(), 'Secret', `${release}-transport-keys`);
  const keys = parseTransportKeys(decode(secret).TRIKEY_TRANSPORT_KEYS!);
  assert.is(keys.length, 1);
  assert.is(keys[0]!.key.length, 32);
});

test('an IAM role through the ServiceAccount replaces SES keys; both at once are refused', async () => {
  const role = `ses.serviceAccount.annotations=${JSON.stringify(roleAnnotations)}`;
  const objects = await render('--set-json', role);
  const account = find(objects, 'ServiceAccount', `${release}-dispatch-email`);
  assert.equal(account.metadata.annotations, roleAnnotations);
  const dispatchEmail = find(objects, 'Service', `${release}-dispatch-email`);
  assert.is(dispatchEmail.spec.template.spec.serviceAccountName, `${release}-dispatch-email`);
  const names = container(dispatchEmail).env.map((entry: any) => entry.name);
  assert.not.ok(names.includes('AWS_ACCESS_KEY_ID'), 'no access key beside the role');

  const both = await refusal(
    '--set-json',
    role,
    '--set',
    'ses.credentials.accessKeyId=AKIA',
    '--set',
    'ses.credentials.secretAccessKey=wJalrFIXTUREsecret',
  );
  assert.match(both, /ses\.serviceAccount\.annotations \(an IAM role\) replaces ses\.credentials/);
  assert.not.ok(both.includes('wJalrFIXTUREsecret'), 'the refusal does not print the secret');
});

test('the SES emulator is off by default, and on runs in the cluster as the mail sink', async () => {
  const byDefault = await render();
  assert.is(ofKind(byDefault, 'Deployment').length, 0);
  assert.not.ok(
    'TRIKEY_SES_ENDPOINT' in find(byDefault, 'ConfigMap', `${release}-dispatch-email`).data,
  );

  const objects = await render('--set', 'sesEmulator.enabled=true');
  const deployment = find(objects, 'Deployment', `${release}-ses-emulator`);
  const spec = deployment.spec.template.spec.containers[0];
  assert.is(spec.image, 'trikey:0.1.0', 'the functions image, built with SES_EMULATOR=true');
  assert.equal(spec.command, [
    'node',
    'node_modules/aws-ses-v2-local/dist/cli.js',
    '--host',
    '0.0.0.0',
    '--port',
    '8005',
  ]);
  assert.is(spec.workingDir, '/app');
  const service = find(objects, 'Service', `${release}-ses-emulator`);
  assert.is(service.spec.ports[0].port, 8005);
  const env = find(objects, 'ConfigMap', `${release}-dispatch-email`).data;
  assert.is(env.TRIKEY_SES_ENDPOINT, `http://${release}-ses-emulator.${namespace}.svc:8005`);
  const credentials = decode(find(objects, 'Secret', `${release}-ses-credentials`));
  assert.ok(credentials.AWS_ACCESS_KEY_ID, 'placeholder keys for the SDK to sign with');

  const ownImage = await render('-f', allOnFile);
  const emulatorImage = find(ownImage, 'Deployment', 'keys-ses-emulator').spec.template.spec
    .containers[0].image;
  assert.is(emulatorImage, 'registry.example.com/platform/trikey-ses-emulator:2.10.2');
});

test('NOTES tell how to call the gateway with the proof of concept body and follow it', async () => {
  const result = await helm.run([
    'install',
    release,
    chartDir,
    '--namespace',
    namespace,
    '--dry-run=client',
    '--set',
    'ses.from=keys@example.com',
    '--set',
    'generateKeys.apiTokens.existingSecret=trikey-api-tokens',
  ]);
  assert.is(result.code, 0, result.stderr);
  const notes = result.stdout.slice(result.stdout.indexOf('NOTES:'));
  assert.match(notes, /curl -s "http:\/\/\$NODE_IP:30080\/generate-keys"/);
  assert.match(notes, /"representantes": \["Luis Gómez <luis@example.com>"/);
  assert.match(notes, /InternalIP/);
  assert.match(notes, /-H "authorization: Bearer \$TRIKEY_API_TOKEN"/);
  assert.not.match(notes, /WARNING/);
  assert.match(
    notes,
    /logs -l app\.kubernetes\.io\/instance=trikey,app\.kubernetes\.io\/component=dispatch-email/,
  );
});

test('NOTES warn when the sender or, with authentication on, every API token is missing', async () => {
  const result = await helm.run([
    'install',
    release,
    chartDir,
    '-n',
    namespace,
    '--dry-run=client',
  ]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /WARNING: ses\.from is empty/);
  assert.match(result.stdout, /WARNING: generateKeys\.auth is required but no API token/);
});

test('bad values are refused with a message naming the value', async () => {
  const unknown = await refusal('--set', 'gateway.hostPort=8080');
  assert.match(unknown, /'\/gateway': additional properties 'hostPort' not allowed/);
  const topLevel = await refusal('--set', 'replicaCount=2');
  assert.match(topLevel, /additional properties 'replicaCount' not allowed/);
  const notNumber = await refusal('--set', 'generateKeys.maxCustodians=many');
  assert.match(notNumber, /'\/generateKeys\/maxCustodians': got string, want integer/);
  const tooMany = await refusal('--set', 'generateKeys.maxCustodians=256');
  assert.match(tooMany, /'\/generateKeys\/maxCustodians': maximum: got 256, want 255/);
  const lowPort = await refusal('--set', 'gateway.nodePort=80');
  assert.match(lowPort, /'\/gateway\/nodePort': minimum: got 80, want 30,?000/);
  const highPort = await refusal('--set', 'gateway.nodePort=40000');
  assert.match(highPort, /'\/gateway\/nodePort': maximum: got 40,?000, want 32,?767/);
  const queue = await refusal('--set', 'broker.queueType=stream');
  assert.match(queue, /'\/broker\/queueType': value must be one of/);
});

test('values.yaml has a comment on every value, and the README a row for each', async () => {
  const text = await readFile(join(chartDir, 'values.yaml'), 'utf8');
  assert.equal(uncommentedKeys(text), []);
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const paths = valuePaths(parseYaml(text));
  assert.ok(paths.length > 40, `${paths.length} values`);
  for (const path of paths) {
    const row = new RegExp(`^\\|\\s*\`${path.replace(/\./g, '\\.')}\`\\s*\\|`, 'm');
    assert.match(readme, row, `README row for ${path}`);
  }
});

test.run();
