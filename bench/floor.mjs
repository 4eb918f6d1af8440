// The floor: the least a Hono app on @hono/node-server can do for a POST, so that every other
// figure reads as a share of what this machine and this HTTP stack allow.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/health/readiness', (c) => c.body(null, 204));
app.post('/', async (c) => {
  const body = await c.req.json();
  return c.json({ ok: true, fields: Object.keys(body).length });
});

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
