// Stands in for Workers KV under plain workerd: every key is absent, so the worker uses its [vars] config.
export default {
  fetch() {
    return new Response(null, { status: 404 });
  },
};
