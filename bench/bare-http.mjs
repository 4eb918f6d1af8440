// The cold-start reference: a node:http server with nothing loaded, answering any path with 204.
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  request.resume();
  response.writeHead(204).end();
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
