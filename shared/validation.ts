import * as v from 'valibot';
import { HttpProblem, type FieldError } from './problem.ts';

/** Turns valibot issues into field errors with a JSON Pointer each (RFC 6901), never the input. */
export function fieldErrors(issues: readonly v.BaseIssue<unknown>[]): FieldError[] {
  return issues.map((issue) => {
    const keys = issue.path?.map((item) => String(item.key)) ?? [];
    const pointer = keys.map((key) => '/' + key.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
    return { pointer, detail: detailOf(issue) };
  });
}

// valibot's own messages quote the value received, which may be anything a caller sent, a share
// token included; our schemas' messages never do. An own message is kept, valibot's is rebuilt
// from what was expected only.
function detailOf(issue: v.BaseIssue<unknown>): string {
  if (!issue.message.startsWith('Invalid ')) return issue.message;
  if (issue.expected === 'never') return 'is not expected here';
  if (issue.received === 'undefined') return 'is required';
  return issue.expected ? `is invalid: expected ${issue.expected}` : 'is invalid';
}

/** Parses input with a schema or throws an HttpProblem with `status` naming every bad field. */
export function parseOrThrow<const TSchema extends v.GenericSchema>(
  schema: TSchema,
  input: unknown,
  status: number,
  detail: string,
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, input);
  if (!result.success) throw new HttpProblem(status, detail, fieldErrors(result.issues));
  return result.output;
}

/**
 * Characters no name, address or label needs and some abuse: control characters (C0, DEL, C1),
 * the line and paragraph separators, the bidirectional controls that reorder what is shown
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), and zero-width or invisible marks
 * (U+200B, U+2060-U+2064, U+FEFF), and lone surrogates, which no UTF-8 can carry. ZWJ and ZWNJ
 * stay allowed: several scripts need them.
 */
export const controlCharacters =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/u;
