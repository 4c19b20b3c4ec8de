// Stands in for Workers KV under plain workerd: every key is absent (GET → 404, so the worker uses its [vars]
// config) and every write is accepted and dropped (204).
export default {
  fetch(request) {
    return new Response(null, { status: request.method === "GET" || request.method === "HEAD" ? 404 : 204 });
  },
};
