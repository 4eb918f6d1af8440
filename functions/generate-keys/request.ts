import * as v from 'valibot';
import { ageRecipientProblem, controlCharacters, toMailableAddress } from '../../shared/index.ts';

/** A custodian once checked: a display name, an address and, if given, an age recipient. */
export interface Custodian {
  name: string;
  email: string;
  /** An X25519 `age1...` recipient, lowercase: the share is encrypted to it. */
  ageRecipient?: string;
}

const isPlainObject = (input: unknown): input is Record<string, unknown> =>
  typeof input === 'object' && input !== null && !Array.isArray(input);

// A strict object's issue is about the object itself, a missing field, or an unknown field.
function objectMessage(issue: v.BaseIssue<unknown>, what: string): string {
  if (!issue.path) return 'must be a JSON object';
  if (issue.received === 'undefined') return 'is required';
  return `is not a field of ${what}`;
}

const maxNameLength = 100;
const maxLabelLength = 100;

const NameSchema = v.pipe(
  v.string('must be a string'),
  v.trim(),
  v.nonEmpty('must not be empty'),
  v.maxLength(maxNameLength, `must be at most ${maxNameLength} characters`),
  v.check(
    (name) => !controlCharacters.test(name),
    'must not contain control characters, line breaks or invisible marks',
  ),
  v.check((name) => !/[<>]/.test(name), 'must not contain < or >'),
);

const EmailSchema = v.pipe(
  v.string('must be a string'),
  v.trim(),
  v.nonEmpty('must not be empty'),
  v.maxLength(254, 'must be at most 254 characters'),
  v.check(
    (email) => !controlCharacters.test(email),
    'must not contain control characters, line breaks or invisible marks',
  ),
  v.toLowerCase(),
  // Internationalised domains become their ASCII (Punycode) form, which SES takes; addresses no
  // mail system delivers (no dot in the domain, an IP, a non-ASCII local part) are refused.
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      toMailableAddress(dataset.value);
    } catch (error) {
      addIssue({ message: (error as Error).message });
    }
  }),
  v.description('An email address; an internationalised domain is sent in its ASCII form.'),
  v.transform(toMailableAddress),
);

// "Ana Ruiz <ana@example.com>" or "ana@example.com": the display-name form of RFC 5322 3.4,
// restricted to what a custodian needs (no comments, no groups, no quoted names).
const custodianText = /^\s*(?:([^<>]*?)\s*<([^<>]*)>|([^<>\s]+@[^<>\s]+))\s*$/;

/** A custodian written as one string, `"Name <address>"` or `"address"`. */
export const CustodianTextSchema = v.pipe(
  v.string(),
  // The API description states the form with the same pattern; the parts are checked below.
  v.metadata({
    description: '"Name <address>" or an address; the name defaults to the part before @.',
    pattern: custodianText.source,
    examples: ['Ana Ruiz <ana@example.com>', 'ana@example.com'],
  }),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    if (controlCharacters.test(dataset.value)) {
      addIssue({ message: 'must not contain control characters, line breaks or invisible marks' });
      return NEVER;
    }
    const match = custodianText.exec(dataset.value);
    if (!match) {
      addIssue({
        message: 'must be "Name <address>" or an address; a custodian needs an email address',
      });
      return NEVER;
    }
    // The parts are checked here rather than by a nested schema so that a refusal points at the
    // string the caller wrote, not at a field that only exists after parsing.
    const email = v.safeParse(EmailSchema, match[2] ?? match[3]);
    const name = v.safeParse(NameSchema, match[1] || email.output);
    if (!email.success) addIssue({ message: `has an address that ${email.issues[0].message}` });
    if (!name.success) addIssue({ message: `has a name that ${name.issues[0].message}` });
    if (!email.success || !name.success) return NEVER;
    return { name: match[1] ? name.output : email.output.split('@')[0]!, email: email.output };
  }),
);

const AgeRecipientSchema = v.pipe(
  v.string('must be a string'),
  v.trim(),
  v.toLowerCase(),
  v.rawCheck(({ dataset, addIssue }) => {
    const problem = dataset.typed ? ageRecipientProblem(dataset.value) : undefined;
    if (problem) addIssue({ message: problem });
  }),
);

/** A custodian written as an object: `{ name, email, ageRecipient }`. */
export const CustodianObjectSchema = v.pipe(
  v.strictObject(
    {
      name: v.optional(NameSchema),
      email: EmailSchema,
      ageRecipient: v.optional(AgeRecipientSchema),
    },
    (issue) => objectMessage(issue, 'a custodian'),
  ),
  v.description(
    'name defaults to the part of email before @; with ageRecipient, an age X25519 ' +
      'recipient (age1...), the share is encrypted to it.',
  ),
  v.transform(({ name, email, ageRecipient }) => ({
    name: name ?? email.split('@')[0]!,
    email,
    ...(ageRecipient === undefined ? {} : { ageRecipient }),
  })),
);

/**
 * One custodian: `"Name <address>"`, `"address"` or `{ name, email, ageRecipient }`. The form is
 * chosen by the input's type, so that a refusal gives the reason of that form rather than of a
 * union.
 */
export const CustodianSchema = v.pipe(
  v.unknown(),
  v.description('A custodian: "Name <address>", an address, or an object.'),
  v.rawTransform<unknown, Custodian>(({ dataset, addIssue, NEVER }) => {
    const input = dataset.value;
    const schema =
      typeof input === 'string'
        ? CustodianTextSchema
        : isPlainObject(input)
          ? CustodianObjectSchema
          : undefined;
    if (!schema) {
      addIssue({
        message: 'must be "Name <address>", an address, or an object with name and email',
      });
      return NEVER;
    }
    const result = v.safeParse(schema, input);
    if (result.success) return result.output;
    for (const issue of result.issues) addIssue({ message: issue.message, path: issue.path });
    return NEVER;
  }),
);

const RepresentativesSchema = v.pipe(
  v.array(CustodianSchema, 'must be an array of custodians'),
  v.minLength(1, 'must name at least one representative'),
  v.maxLength(254, 'must name at most 254 representatives'),
  v.description('The custodians besides the admin; they hold shares 2 onwards.'),
);

/** The body of a ceremony request, as the brief's request contract gives it. */
export const CeremonyRequestSchema = v.pipe(
  v.custom<Record<string, unknown>>(isPlainObject, 'must be a JSON object'),
  v.strictObject(
    {
      admin: CustodianSchema,
      representatives: v.optional(RepresentativesSchema),
      // The proof of concept's Spanish field name, accepted as it stands.
      representantes: v.optional(RepresentativesSchema),
      threshold: v.optional(
        v.pipe(
          v.number('must be a number'),
          v.integer('must be a whole number'),
          v.minValue(2, 'must be at least 2'),
          v.maxValue(255, 'must be at most 255'),
          v.description('Shares needed to rebuild the key, at most the custodians; default: all.'),
        ),
      ),
      label: v.optional(
        v.pipe(
          v.string('must be a string'),
          v.trim(),
          v.maxLength(maxLabelLength, `must be at most ${maxLabelLength} characters`),
          v.description('A name for the key, shown in the emails.'),
          v.check(
            (label) => !controlCharacters.test(label),
            'must not contain control characters, line breaks or invisible marks',
          ),
        ),
      ),
      locale: v.optional(
        v.pipe(
          v.picklist(['es', 'en'], 'must be "es" or "en"'),
          v.description("The emails' language; default: the service's."),
        ),
      ),
    },
    (issue) => objectMessage(issue, 'a ceremony request'),
  ),
);

/** A ceremony request body as parsed, before the checks that span fields. */
export type CeremonyRequestBody = v.InferOutput<typeof CeremonyRequestSchema>;
