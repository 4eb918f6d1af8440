import { toJsonSchemaDefs, type ConversionConfig, type JsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import packageJson from '../../package.json' with { type: 'json' };
import { EventTypes, problemMediaType } from '../../shared/index.ts';
import { renderDocsPage } from './docs-page.ts';
import {
  CeremonyRequestSchema,
  CustodianObjectSchema,
  CustodianSchema,
  CustodianTextSchema,
} from './request.ts';

/** What the API description says about one deployment of generate-keys. */
export interface ApiDescriptionOptions {
  maxCustodians: number;
  maxBodyBytes: number;
  requireCustodianKeys: boolean;
}

/** One response of an operation, as OpenAPI 3.1 describes it. */
export interface ApiResponse {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, { schema: JsonSchema }>;
}

/** One operation of the API description. */
export interface ApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  security?: Record<string, string[]>[];
  requestBody?: {
    required: boolean;
    content: Record<string, { schema: JsonSchema; example?: unknown }>;
  };
  responses: Record<string, ApiResponse>;
}

/** The OpenAPI 3.1 document of generate-keys. */
export interface ApiDescription {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, ApiOperation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

// The request schema is a guard that the body is a plain object, which JSON Schema's `type:
// object` says already, piped into the strict object of the fields: that object is converted.
const [, CeremonyFieldsSchema] = CeremonyRequestSchema.pipe;

const ReceiptCustodianSchema = v.pipe(
  v.object({
    name: v.string(),
    email: v.pipe(v.string(), v.email()),
    shareNumber: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(255)),
    role: v.picklist(['admin', 'representative']),
  }),
  v.description('A custodian and the number of the share emailed to them; the admin holds 1.'),
);

const CeremonyReceiptSchema = v.pipe(
  v.object({
    ceremonyId: v.pipe(v.string(), v.uuid(), v.description('Names the ceremony everywhere.')),
    keyId: v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/), v.description('Names the key.')),
    fingerprint: v.pipe(
      v.string(),
      v.regex(/^[0-9a-f]{64}$/),
      v.description('Identifies the key when it is rebuilt; reveals nothing useful about it.'),
    ),
    threshold: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(255)),
    total: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(255)),
    label: v.nullable(v.string()),
    locale: v.picklist(['es', 'en']),
    custodians: v.array(ReceiptCustodianSchema),
  }),
  v.description('The ceremony as accepted: identifiers and custodians, never a share.'),
);

const FieldErrorSchema = v.object({
  pointer: v.pipe(
    v.string(),
    v.description('JSON Pointer (RFC 6901) to the field; "" is the body.'),
  ),
  detail: v.pipe(v.string(), v.description('What is wrong with the field.')),
});

const problemEntries = {
  type: v.pipe(v.string(), v.description('about:blank: the status says what kind of problem.')),
  title: v.string(),
  status: v.pipe(v.number(), v.integer(), v.minValue(400), v.maxValue(599)),
  detail: v.pipe(v.string(), v.description('What went wrong, for a person to read.')),
  errors: v.optional(v.array(FieldErrorSchema)),
};

const ProblemSchema = v.pipe(
  v.object(problemEntries),
  v.description('Problem details (RFC 9457); errors names each refused field.'),
);

const UnacceptedCeremonyProblemSchema = v.pipe(
  v.object({
    ...problemEntries,
    ceremonyId: v.pipe(
      v.string(),
      v.uuid(),
      v.description('The ceremony refused: any of its shares already accepted is voided.'),
    ),
  }),
  v.description('Problem details (RFC 9457) with the extension member ceremonyId.'),
);

const CeremonyRequestedEventSchema = v.pipe(
  v.object({
    specversion: v.literal('1.0'),
    id: v.pipe(v.string(), v.nonEmpty()),
    source: v.pipe(v.string(), v.nonEmpty()),
    type: v.literal(EventTypes.ceremonyRequested),
    datacontenttype: v.optional(v.string()),
    data: CeremonyFieldsSchema,
  }),
  v.description('A CloudEvent in structured mode whose data is the ceremony request.'),
);

const conversion: ConversionConfig = {
  target: 'draft-2020-12',
  typeMode: 'input',
  errorMode: 'throw',
  // Checks and normalisations with no JSON Schema keyword; the request's description lists them.
  ignoreActions: ['trim', 'to_lower_case', 'check', 'raw_check'],
  overrideRef: ({ referenceId }) => schemaRef(referenceId),
};

const schemaRef = (name: string) => `#/components/schemas/${name}`;
const ref = (name: string): JsonSchema => ({ $ref: schemaRef(name) });

// What generate-keys checks after the schema, each refused with 422 all the same.
function checksBeyondTheSchema(options: ApiDescriptionOptions): string[] {
  return [
    'every custodian has an address of their own (compared in lowercase)',
    '`threshold` is at most the number of custodians',
    `there are at most ${options.maxCustodians} custodians, admin included ` +
      '(TRIKEY_MAX_CUSTODIANS)',
    'names, addresses and the label hold no control characters, line breaks or invisible ' +
      'marks, and names hold no `<` or `>`',
    'spaces around a name, an address, the label or an age recipient are trimmed before ' +
      'lengths are counted, and lengths count UTF-16 code units (JSON Schema counts code points)',
    "an address, also inside a `Name <address>` string, passes Trikey's own address check, " +
      'which `format: email` only approximates',
    '`ageRecipient` is a valid age X25519 recipient (`age1...`)',
    ...(options.requireCustodianKeys ? ['every custodian gives an `ageRecipient`'] : []),
  ];
}

const pocExample = {
  admin: 'Ana Ruiz <ana@example.com>',
  representatives: ['Luis Gómez <luis@example.com>', 'marta@example.com'],
  threshold: 2,
  label: 'warehouse-2027',
  locale: 'en',
};

function schemas(options: ApiDescriptionOptions): Record<string, JsonSchema> {
  const converted = toJsonSchemaDefs(
    {
      CeremonyRequest: CeremonyFieldsSchema,
      Custodian: CustodianSchema,
      CustodianText: CustodianTextSchema,
      CustodianObject: CustodianObjectSchema,
      CeremonyReceipt: CeremonyReceiptSchema,
      ReceiptCustodian: ReceiptCustodianSchema,
      FieldError: FieldErrorSchema,
      Problem: ProblemSchema,
      UnacceptedCeremonyProblem: UnacceptedCeremonyProblemSchema,
      CeremonyRequestedEvent: CeremonyRequestedEventSchema,
    },
    conversion,
  );
  const checks = checksBeyondTheSchema(options).map((check) => `- ${check}`);
  return {
    ...converted,
    CeremonyRequest: {
      ...converted.CeremonyRequest,
      description: [
        'A ceremony request. Besides this schema, generate-keys checks that:',
        ...checks,
      ].join('\n'),
      // planCeremony takes the representatives under exactly one of their two names.
      oneOf: [{ required: ['representatives'] }, { required: ['representantes'] }],
      examples: [pocExample],
    },
    // CustodianSchema picks a form by the input's type in code; the document names the forms.
    Custodian: { ...converted.Custodian, anyOf: [ref('CustodianText'), ref('CustodianObject')] },
  };
}

const problemResponse = (description: string, schema = 'Problem'): ApiResponse => ({
  description,
  content: { [problemMediaType]: { schema: ref(schema) } },
});

const retryAfter = {
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'integer' },
  },
} satisfies ApiResponse['headers'];

function requestCeremony(operationId: string, options: ApiDescriptionOptions): ApiOperation {
  return {
    operationId,
    summary: 'Run a key ceremony',
    description: [
      'Draws a fresh AES-256 key, splits it so that `threshold` custodians rebuild it, and emails',
      'each custodian their share. Answers 202 only once every share event is durably accepted',
      'by the broker; the answer never holds a share.',
      '',
      `The same request can arrive as a \`${EventTypes.ceremonyRequested}\` CloudEvent whose data`,
      'is this body: in binary mode (`ce-specversion`, `ce-id`, `ce-source`, `ce-type` headers',
      'and an `application/json` body) or in structured mode (`application/cloudevents+json`).',
      'An event is answered 202 with no body. Events delivered by the broker need no bearer',
      "token when their `source` is in the service's allowed list.",
    ].join('\n'),
    security: [{ bearerAuth: [] }],
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: ref('CeremonyRequest'), example: pocExample },
        'application/cloudevents+json': { schema: ref('CeremonyRequestedEvent') },
      },
    },
    responses: {
      '202': {
        description: 'Accepted: every share will be emailed or reported failed.',
        content: { 'application/json': { schema: ref('CeremonyReceipt') } },
      },
      '400': problemResponse('The body is not JSON, or the CloudEvent is malformed.'),
      '401': {
        ...problemResponse('No bearer token, a wrong one, or an event source not allowed.'),
        headers: {
          'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string' } },
        },
      },
      '413': problemResponse(
        `The body is over ${options.maxBodyBytes} bytes, or its share events would be too large.`,
      ),
      '415': problemResponse('Neither application/json nor a CloudEvent, or a compressed body.'),
      '422': problemResponse('A field is invalid; nothing was generated or sent.'),
      '429': { ...problemResponse('Too many requests for this token.'), headers: retryAfter },
      '503': {
        ...problemResponse(
          'The broker did not accept every share event: nothing was accepted and the key was ' +
            'discarded.',
          'UnacceptedCeremonyProblem',
        ),
        headers: retryAfter,
      },
    },
  };
}

const publicGet = (operationId: string, summary: string, response: ApiResponse) => ({
  get: {
    operationId,
    summary,
    security: [],
    responses: { [response.content ? '200' : '204']: response },
  },
});

/**
 * Builds the OpenAPI 3.1 document of generate-keys from the valibot schemas that validate its
 * requests. Throws if a schema gains a part that cannot be converted.
 */
export function buildApiDescription(options: ApiDescriptionOptions): ApiDescription {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Trikey generate-keys',
      version: packageJson.version,
      description:
        "Runs key ceremonies: a fresh AES-256 key split with Shamir's secret sharing, one share " +
        'emailed to each custodian. The key itself is never stored, logged, returned or sent.',
    },
    paths: {
      '/generate-keys': { post: requestCeremony('requestCeremony', options) },
      '/': { post: requestCeremony('requestCeremonyAtRoot', options) },
      '/health/readiness': publicGet('readiness', 'Ready to take requests', {
        description: 'Ready.',
      }),
      '/health/liveness': publicGet('liveness', 'Alive', { description: 'Alive.' }),
      '/openapi.json': publicGet('apiDescription', 'This document', {
        description: 'The OpenAPI 3.1 document.',
        content: { 'application/json': { schema: { type: 'object' } } },
      }),
      '/docs': publicGet('apiDocs', 'This document as a web page', {
        description: 'The page.',
        content: { 'text/html': { schema: { type: 'string' } } },
      }),
    },
    components: {
      schemas: schemas(options),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API token from TRIKEY_API_TOKENS. `npm start` switches authentication off on ' +
            'loopback when none is set.',
        },
      },
    },
  };
}

/** The API description, built once: the document and its web page. */
export function createApiDocs(options: ApiDescriptionOptions) {
  const document = buildApiDescription(options);
  return { document, page: renderDocsPage(document) };
}
