import type { JsonSchema } from '@valibot/to-json-schema';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ApiDescription, ApiOperation } from './openapi.ts';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const schemaPrefix = '#/components/schemas/';
const refName = (ref: string) => ref.slice(schemaPrefix.length);

// A schema's type in a few words; a reference links to the schema's own section.
function typeOf(schema: JsonSchema | boolean | undefined): Html {
  if (typeof schema !== 'object') return html`any`;
  if (schema.$ref) return html`<a href="#${refName(schema.$ref)}">${refName(schema.$ref)}</a>`;
  if (schema.anyOf) return html`${join(schema.anyOf.map(typeOf), ' or ')}`;
  if (schema.enum) return html`${schema.enum.map((value) => JSON.stringify(value)).join(' | ')}`;
  if (schema.const !== undefined) return html`${JSON.stringify(schema.const)}`;
  if (schema.type === 'array' && !Array.isArray(schema.items)) {
    return html`array of ${typeOf(schema.items)}`;
  }
  return html`${[schema.type ?? 'any'].flat().join(' or ')}`;
}

const join = (parts: Html[], separator: string) =>
  parts.map((part, index) => (index === 0 ? part : html`${separator}${part}`));

function constraintsOf(schema: JsonSchema | boolean | undefined): string[] {
  if (typeof schema !== 'object') return [];
  const constraints: string[] = [];
  if (schema.minimum !== undefined) constraints.push(`at least ${schema.minimum}`);
  if (schema.maximum !== undefined) constraints.push(`at most ${schema.maximum}`);
  if (schema.minLength !== undefined) constraints.push(`${schema.minLength} or more characters`);
  if (schema.maxLength !== undefined) constraints.push(`at most ${schema.maxLength} characters`);
  if (schema.minItems !== undefined) constraints.push(`${schema.minItems} or more items`);
  if (schema.maxItems !== undefined) constraints.push(`at most ${schema.maxItems} items`);
  if (schema.format) constraints.push(`format ${schema.format}`);
  if (schema.pattern) constraints.push(`matches ${schema.pattern}`);
  if (schema.additionalProperties === false) constraints.push('no other fields');
  if (schema.oneOf) {
    const names = schema.oneOf.map((each) => typeof each === 'object' && each.required?.join());
    constraints.push(`exactly one of ${names.join(', ')}`);
  }
  return constraints;
}

// Descriptions are CommonMark; this renders the part they use: paragraphs, "- " items, `code`.
function prose(text: string | undefined): Html | '' {
  if (!text) return '';
  const inline = (line: string) =>
    line.split('`').map((part, index) => (index % 2 === 1 ? html`<code>${part}</code>` : part));
  const blocks = text.split(/\n{2,}/).map((block) => {
    const lines = block.split('\n');
    const words = lines.filter((line) => !line.startsWith('- ')).join(' ');
    const items = lines.filter((line) => line.startsWith('- '));
    return html`${words ? html`<p>${inline(words)}</p>` : ''}${
      items.length > 0
        ? html`<ul>
            ${items.map((item) => html`<li>${inline(item.slice(2))}</li>`)}
          </ul>`
        : ''
    }`;
  });
  return html`${blocks}`;
}

function schemaSection(
  name: string,
  schema: JsonSchema,
  schemas: Record<string, JsonSchema>,
): Html {
  const properties = Object.entries(schema.properties ?? {});
  const rows = properties.map(([field, property]) => {
    // A field that names another schema takes that schema's description.
    const target = typeof property === 'object' && property.$ref && schemas[refName(property.$ref)];
    const description = typeof property === 'object' ? property.description : undefined;
    return html`<tr>
      <td><code>${field}</code></td>
      <td>${typeOf(property)}</td>
      <td>${schema.required?.includes(field) ? 'required' : 'optional'}</td>
      <td>${constraintsOf(property).join('; ')}</td>
      <td>${prose(description ?? (target ? target.description : undefined))}</td>
    </tr>`;
  });
  const constraints = constraintsOf(schema).map((each) => `; ${each}`);
  return html`<section id="${name}">
    <h3>${name}</h3>
    ${prose(schema.description)}
    <p>${schema.anyOf ? 'One of: ' : 'Type: '}${typeOf(schema)}${constraints}</p>
    ${
      properties.length > 0
        ? html`<table>
            <tr>
              <th>field</th>
              <th>type</th>
              <th></th>
              <th>constraints</th>
              <th>description</th>
            </tr>
            ${rows}
          </table>`
        : ''
    }
  </section>`;
}

// A shell-quoted curl line for an operation's JSON example.
function curlExample(path: string, operation: ApiOperation): string {
  const example = operation.requestBody?.content['application/json']?.example;
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  return [
    `curl -s "$TRIKEY_URL${path}" \\`,
    `  -H "authorization: Bearer $TRIKEY_TOKEN" \\`,
    `  -H 'content-type: application/json' \\`,
    `  -d ${quote(JSON.stringify(example, null, 2))}`,
  ].join('\n');
}

function operationSection(path: string, method: string, operation: ApiOperation): Html {
  const body = operation.requestBody?.content ?? {};
  const responses = Object.entries(operation.responses).map(
    ([status, response]) =>
      html`<tr>
        <td>${status}</td>
        <td>${response.description}</td>
        <td>
          ${Object.entries(response.content ?? {}).map(
            ([type, { schema }]) => html`<code>${type}</code> ${typeOf(schema)} `,
          )}
        </td>
        <td>${Object.keys(response.headers ?? {}).join(', ')}</td>
      </tr>`,
  );
  return html`<section id="${operation.operationId}">
    <h2><code>${method.toUpperCase()} ${path}</code></h2>
    <p>${operation.summary}${operation.security?.length === 0 ? ' (no token needed)' : ''}</p>
    ${prose(operation.description)}
    ${
      Object.keys(body).length > 0
        ? html`<h4>Request body</h4>
            <ul>
              ${Object.entries(body).map(
                ([type, { schema }]) => html`<li><code>${type}</code>: ${typeOf(schema)}</li>`,
              )}
            </ul>`
        : ''
    }
    <h4>Responses</h4>
    <table>
      <tr>
        <th>status</th>
        <th>when</th>
        <th>body</th>
        <th>headers</th>
      </tr>
      ${responses}
    </table>
    ${
      body['application/json']?.example
        ? html`<h4>Example</h4>
            <pre>${curlExample(path, operation)}</pre>`
        : ''
    }
  </section>`;
}

/**
 * Renders the API description as one self-contained HTML page, with no script and nothing
 * fetched from elsewhere. Every value goes through hono/html, which escapes it.
 */
export function renderDocsPage(document: ApiDescription): Html {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => operationSection(path, method, operation)),
  );
  const schemas = Object.entries(document.components.schemas).map(([name, schema]) =>
    schemaSection(name, schema, document.components.schemas),
  );
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>${document.info.title}</title>
        <style>
          body {
            font:
              15px/1.5 system-ui,
              sans-serif;
            max-width: 60rem;
            margin: 2rem auto;
            padding: 0 1rem;
          }
          table {
            border-collapse: collapse;
            margin: 0.5rem 0;
          }
          th,
          td {
            border: 1px solid #ccc;
            padding: 0.2rem 0.5rem;
            text-align: left;
            vertical-align: top;
          }
          td p {
            margin: 0;
          }
          pre {
            background: #f4f4f4;
            padding: 0.5rem;
            overflow-x: auto;
          }
        </style>
      </head>
      <body>
        <h1>${document.info.title} ${document.info.version}</h1>
        ${prose(document.info.description)}
        <p>
          The same description as OpenAPI 3.1: <a href="openapi.json">openapi.json</a>. In the
          examples, <code>TRIKEY_URL</code> is the service's address (<code
            >http://127.0.0.1:8080</code
          >
          in a local run) and <code>TRIKEY_TOKEN</code> an API token.
        </p>
        ${operations}
        <h2>Schemas</h2>
        ${schemas}
      </body>
    </html>`;
}
