import * as v from 'valibot';
import { HttpProblem, type FieldError } from './problem.ts';

/** Turns valibot issues into field errors with a JSON Pointer each (RFC 6901). */
export function fieldErrors(issues: readonly v.BaseIssue<unknown>[]): FieldError[] {
  return issues.map((issue) => {
    const keys = issue.path?.map((item) => String(item.key)) ?? [];
    const pointer = keys.map((key) => '/' + key.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
    return { pointer, detail: issue.message };
  });
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

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
export const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
