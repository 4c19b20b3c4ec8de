// Baseline (a): forwards every request to env.BACKEND unchanged; the bench compares Switchyard against this.
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.BACKEND + url.pathname + url.search, request);
  },
};
