import { z } from 'zod';
import { commands, type CommandDef } from '@shared/contract';
import { ERROR_CODES, HTTP_STATUS } from '@shared/errors';

/** An OpenAPI 3.1 document generated from the command registry: the HTTP transport's only description of itself. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const errorRef = { $ref: '#/components/schemas/Error' };
  const errorResponses = Object.fromEntries(
    [...new Set(Object.values(HTTP_STATUS))].map((s) => [String(s), { description: 'Error', content: { 'application/json': { schema: errorRef } } }]),
  );
  for (const [name, def] of Object.entries(commands) as [string, CommandDef][]) {
    const input = z.toJSONSchema(def.input, { io: 'input', unrepresentable: 'any' });
    const output = z.toJSONSchema(def.output, { io: 'output', unrepresentable: 'any' });
    paths[`/api/v1/${name}`] = {
      post: {
        operationId: name,
        summary: def.summary,
        tags: [name.split('.')[0]],
        security: [{ bearer: [] }],
        requestBody: { required: false, content: { 'application/json': { schema: input } } },
        responses: { '200': { description: 'OK', content: { 'application/json': { schema: output } } }, ...errorResponses },
        ...(def.mutating ? { 'x-skydeck-audited': true } : {}),
      },
    };
    if (def.list) {
      paths[`/api/v1/${def.list}`] = {
        get: {
          operationId: `${name}.get`,
          summary: def.summary,
          tags: [name.split('.')[0]],
          security: [{ bearer: [] }],
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } },
            { name: 'sort', in: 'query', description: 'field, or -field for descending', schema: { type: 'string' } },
            { name: 'q', in: 'query', description: 'free text', schema: { type: 'string' } },
            { name: 'filter', in: 'query', description: 'field:value, repeatable; value a,b means either', schema: { type: 'array', items: { type: 'string' } }, explode: true },
          ],
          responses: { '200': { description: 'OK', content: { 'application/json': { schema: output } } }, ...errorResponses },
        },
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Skydeck API', version, description: 'Every command of the Skydeck core. Errors answer { code, message, details }.' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The token printed by `npm run serve`' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'string', enum: [...ERROR_CODES] }, message: { type: 'string' }, details: { type: 'object' } },
        },
      },
    },
    paths,
  };
}
