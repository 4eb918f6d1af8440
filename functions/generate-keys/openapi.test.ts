import { testGenerateKeys } from './test-app.ts';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTransportKeys, type SinkAnswer } from '../../shared/index.ts';

const transportKeys = parseTransportKeys('t1:' + Buffer.alloc(32, 7).toString('base64'));
const maxCustodians = 5;
const ageRecipient = await identityToRecipient(await generateIdentity());
const base = { admin: 'Ana Ruiz <ana@example.com>', representatives: ['luis@example.com'] };

/** [what, body, accepted]: both the document's schema and the live endpoint must say the same. */
const agreed: [string, unknown, boolean][] = [
  [
    'the proof of concept body',
    { admin: 'Nombre <admin@example.com>', representantes: ['a@example.com', 'b@example.com'] },
    true,
  ],
  [
    'the README quorum example',
    { ...base, representatives: ['luis@example.com', 'marta@example.com'], threshold: 2 },
    true,
  ],
  ['threshold 2, the lowest', { ...base, threshold: 2 }, true],
  [
    'threshold n of n',
    { ...base, representatives: ['b@example.com', 'c@example.com'], threshold: 3 },
    true,
  ],
  ['an object custodian', { ...base, admin: { name: 'Ana', email: 'ana@example.com' } }, true],
  [
    'an object custodian with an address only',
    { ...base, admin: { email: 'ana@example.com' } },
    true,
  ],
  [
    'an object custodian with an age recipient',
    { ...base, admin: { email: 'ana@example.com', ageRecipient } },
    true,
  ],
  ['an address with spaces around it', { ...base, admin: '  ana@example.com ' }, true],
  ['a non-ASCII name', { ...base, admin: 'Zoë Núñez <zoe@example.com>' }, true],
  ['an empty label', { ...base, label: '' }, true],
  ['a label of 100 characters', { ...base, label: 'x'.repeat(100) }, true],
  ['locale es', { ...base, locale: 'es' }, true],
  [
    'the most custodians this app takes',
    { ...base, representatives: ['b@x.example', 'c@x.example', 'd@x.example', 'e@x.example'] },
    true,
  ],
  ['an array', [base], false],
  ['null', null, false],
  ['a string', 'ana@example.com', false],
  ['no admin', { representatives: ['luis@example.com'] }, false],
  ['no representatives under either name', { admin: 'ana@example.com' }, false],
  ['both names', { ...base, representantes: ['marta@example.com'] }, false],
  ['no representative', { ...base, representatives: [] }, false],
  ['no representante', { admin: 'ana@example.com', representantes: [] }, false],
  ['representatives as a string', { ...base, representatives: 'luis@example.com' }, false],
  ['threshold 1', { ...base, threshold: 1 }, false],
  ['threshold 256', { ...base, threshold: 256 }, false],
  ['threshold 2.5', { ...base, threshold: 2.5 }, false],
  ['threshold as a string', { ...base, threshold: '2' }, false],
  ['threshold null', { ...base, threshold: null }, false],
  ['an unknown field', { ...base, colour: 'red' }, false],
  [
    'an unknown custodian field',
    { ...base, admin: { email: 'ana@example.com', role: 'x' } },
    false,
  ],
  ['a custodian object without email', { ...base, admin: { name: 'Ana' } }, false],
  ['a custodian number', { ...base, representatives: [7] }, false],
  ['a custodian null', { ...base, admin: null }, false],
  ['an admin array', { ...base, admin: ['ana@example.com'] }, false],
  ['a name without an address', { ...base, admin: 'Nombre del Admin' }, false],
  ['two addresses in one string', { ...base, admin: 'Ana <a@example.com> <b@example.com>' }, false],
  ['an empty name', { ...base, admin: { name: '', email: 'ana@example.com' } }, false],
  [
    'a name of 101 characters',
    { ...base, admin: { name: 'x'.repeat(101), email: 'a@example.com' } },
    false,
  ],
  [
    'an age recipient that is not a string',
    { ...base, admin: { email: 'a@example.com', ageRecipient: 5 } },
    false,
  ],
  ['a label of 101 characters', { ...base, label: 'x'.repeat(101) }, false],
  ['a label that is a number', { ...base, label: 5 }, false],
  ['locale fr', { ...base, locale: 'fr' }, false],
  ['locale EN', { ...base, locale: 'EN' }, false],
];

/**
 * What JSON Schema cannot say, as the document's request description lists it: [what, body,
 * schema accepts, live status]. Each is checked to differ, so that a case the document learns
 * to express moves to the table above.
 */
const knownDifferences: [string, unknown, boolean, number][] = [
  // Trikey's address check (mailable, IDN converted) runs in code: the schema says string only.
  ['an email that is no address', { ...base, admin: { email: 'not an address' } }, true, 422],
  ['the same address twice', { ...base, representatives: ['ANA@example.com'] }, true, 422],
  ['threshold over the custodians', { ...base, threshold: 3 }, true, 422],
  [
    'more custodians than TRIKEY_MAX_CUSTODIANS',
    { ...base, representatives: ['b@x.io', 'c@x.io', 'd@x.io', 'e@x.io', 'f@x.io'] },
    true,
    422,
  ],
  ['a line break in a text custodian', { ...base, admin: 'Eve\r\n <e@example.com>' }, true, 422],
  [
    'a header injected into a name',
    { ...base, admin: { name: 'Eve\r\nBcc: x@example.test', email: 'e@example.com' } },
    true,
    422,
  ],
  ['an invisible mark in the label', { ...base, label: 'x\u200by' }, true, 422],
  [
    '< in an object name',
    { ...base, admin: { name: 'Eve <x>', email: 'e@example.com' } },
    true,
    422,
  ],
  ['a name of spaces only', { ...base, admin: { name: '   ', email: 'e@example.com' } }, true, 422],
  ['a long label trimmed to 100', { ...base, label: `  ${'x'.repeat(100)}  ` }, false, 202],
  ['a label of 51 emoji (102 UTF-16 units)', { ...base, label: '😀'.repeat(51) }, true, 422],
  ['an address with no top-level domain', { ...base, admin: 'Ana <ana@example>' }, true, 422],
  [
    'an age recipient that is not one',
    { ...base, admin: { email: 'a@example.com', ageRecipient: 'age1x' } },
    true,
    422,
  ],
];

function makeApp(answer: SinkAnswer = { ok: true, status: 202 }) {
  return testGenerateKeys({ transportKeys, maxCustodians }, answer).app;
}

const post = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

// The document served, checked as OpenAPI 3.1, with every $ref replaced by what it names.
async function servedDocument() {
  const response = await makeApp().request('/openapi.json');
  assert.is(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const document = (await response.json()) as Record<string, unknown>;
  const validator = new Validator();
  const result = await validator.validate(document);
  assert.ok(result.valid, JSON.stringify(result.errors));
  return { document, resolved: validator.resolveRefs() as Record<string, any> };
}

// ajv-formats is CommonJS: its plugin is the default export of the module object.
function compile(schema: object) {
  const ajv = new Ajv2020({ allErrors: true });
  ajvFormats.default(ajv, ['email', 'uuid']);
  return ajv.compile(schema);
}

test('serves a valid OpenAPI 3.1 document describing every path', async () => {
  const { document } = await servedDocument();
  assert.is(document.openapi, '3.1.0');
  const paths = document.paths as Record<string, Record<string, any>>;
  assert.equal(Object.keys(paths).sort(), [
    '/',
    '/docs',
    '/generate-keys',
    '/health/liveness',
    '/health/readiness',
    '/openapi.json',
  ]);
  for (const path of ['/', '/generate-keys']) {
    const responses = paths[path]!.post.responses as Record<string, any>;
    assert.equal(Object.keys(responses), ['202', '400', '401', '413', '415', '422', '429', '503']);
    for (const [status, response] of Object.entries(responses)) {
      if (status === '202') continue;
      assert.ok(response.content['application/problem+json'], `${path} ${status} is a problem`);
    }
    assert.ok(responses['429'].headers['Retry-After']);
    assert.equal(paths[path]!.post.security, [{ bearerAuth: [] }]);
    assert.match(paths[path]!.post.description, /dev\.trikey\.ceremony\.requested/);
  }
  assert.equal(paths['/health/readiness']!.get.security, []);
});

test('its request schema accepts and refuses the same bodies as the live endpoint', async () => {
  const { resolved } = await servedDocument();
  const content = resolved.paths['/generate-keys'].post.requestBody.content;
  const validate = compile(content['application/json'].schema);
  for (const [what, body, accepted] of agreed) {
    const response = await makeApp().request('/generate-keys', post(body));
    assert.is(
      validate(body),
      accepted,
      `the schema on ${what}: ${JSON.stringify(validate.errors)}`,
    );
    assert.is(response.status, accepted ? 202 : 422, `the endpoint on ${what}`);
  }
  assert.ok(agreed.length >= 25);
});

test('differs from the live endpoint only where the document says it cannot follow', async () => {
  const { resolved } = await servedDocument();
  const request = resolved.paths['/generate-keys'].post.requestBody.content['application/json'];
  const validate = compile(request.schema);
  for (const [what, body, schemaAccepts, status] of knownDifferences) {
    const response = await makeApp().request('/generate-keys', post(body));
    assert.is(validate(body), schemaAccepts, `the schema on ${what}`);
    assert.is(response.status, status, `the endpoint on ${what}`);
  }
  const description: string = request.schema.description;
  for (const check of [
    'own',
    'at most the number',
    'TRIKEY_MAX_CUSTODIANS',
    'control',
    'trimmed',
  ]) {
    assert.ok(description.includes(check), `the description says ${check}`);
  }
});

test('describes the live 202, 422 and 503 bodies', async () => {
  const { resolved } = await servedDocument();
  const responses = resolved.paths['/generate-keys'].post.responses;
  const schemaOf = (status: string, type: string) =>
    compile(responses[status].content[type].schema);
  const cases: [SinkAnswer, unknown, string, string][] = [
    [{ ok: true, status: 202 }, base, '202', 'application/json'],
    [{ ok: true, status: 202 }, { ...base, threshold: 9 }, '422', 'application/problem+json'],
    [{ ok: false, status: 0, reason: 'network' }, base, '503', 'application/problem+json'],
  ];
  for (const [answer, body, status, type] of cases) {
    const response = await makeApp(answer).request('/', post(body));
    assert.is(String(response.status), status);
    assert.is(response.headers.get('content-type'), type);
    const validate = schemaOf(status, type);
    const json = await response.json();
    assert.ok(validate(json), `${status}: ${JSON.stringify(validate.errors)}`);
  }
});

test('renders /docs as one escaped, self-contained page', async () => {
  const response = await makeApp().request('/docs');
  assert.is(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  const page = await response.text();
  for (const path of [
    'POST /generate-keys',
    'POST /',
    'GET /health/readiness',
    'GET /health/liveness',
  ]) {
    assert.ok(page.includes(`<code>${path}</code>`), path);
  }
  assert.ok(page.includes('&quot;Name &lt;address&gt;&quot;'), 'descriptions are escaped');
  assert.not.ok(page.includes('"Name <address>"'));
  assert.match(page, /curl -s &quot;\$TRIKEY_URL\/generate-keys&quot;/);
  assert.match(page, /threshold/);
  assert.not.match(page, /<script|<link|src=|href="https?:/);
});

test.run();
