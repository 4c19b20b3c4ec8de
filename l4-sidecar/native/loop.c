// The sidecar's native TCP data path: accept, connect and splice on an epoll set of its own, driven from Node's
// event loop (the epoll fd is one uv_poll handle). JavaScript keeps every decision: accepted connections (admit
// or refuse, pick a backend and connect), connects that succeeded and connections that ended (bytes, who closed,
// error: to count and log) are told to it in one call per batch of events, in order and before any other call;
// a connect failure (fail over) in a call of its own.
//
// Why not libuv streams: on this kind of VM a short connection is ~85% kernel time, and libuv spends about five
// syscalls per connection that a proxy does not need (an epoll_ctl DEL before each close, getsockopt(SO_ERROR)
// on every connect, getpeername because accept is called without an address, MOD calls as reads start and
// stop), plus an event-loop round trip per step. Here every socket is registered once, edge-triggered, for
// reads and writes (no MOD, no DEL: close() removes it), accept4 returns the peer address, a connect is known
// to have succeeded from its first EPOLLOUT, and a short read means the socket is drained (as nginx does).
//
// Single-threaded: everything runs on Node's main thread, inside the uv_poll callback or a call from JS.
#include "engine.h"

engine* E;

// ---- keeping Node's loop alive only while there is something to serve ----------------------------------------

void update_ref(void) {
  int want = E->nlisteners > 0 || E->live > 0;
  if (want == E->referenced) return;
  E->referenced = want;
  if (want) uv_ref((uv_handle_t*)&E->poll);
  else uv_unref((uv_handle_t*)&E->poll);
}

// ---- calls into JavaScript --------------------------------------------------------------------------------

// Exceptions thrown by a callback become uncaught exceptions, as they would from any Node callback.
void call_js(napi_ref ref, size_t argc, napi_value* argv, napi_value* result) {
  napi_env env = E->env;
  napi_value fn, undef, r;
  napi_get_reference_value(env, ref, &fn);
  napi_get_undefined(env, &undef);
  if (napi_call_function(env, undef, fn, argc, argv, result ? result : &r) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
}

napi_value num(double v) {
  napi_value out;
  napi_create_double(E->env, v, &out);
  return out;
}

napi_value str_or_undefined(const char* s) {
  napi_value out;
  if (s) napi_create_string_latin1(E->env, s, NAPI_AUTO_LENGTH, &out);
  else napi_get_undefined(E->env, &out);
  return out;
}

const char* errno_name(int err) {
  const char* n = err ? strerrorname_np(err) : NULL;
  return n ? n : (err ? "EIO" : NULL);
}

// ---- events told in batches ----------------------------------------------------------------------------------

// Queues an accepted IPv4 client, a connect that succeeded or a connection that ended. A call into JavaScript
// costs about as many instructions as the rest of an event's handling there, so they go in one call per batch
// (flush_events).
void queue_event(int type, conn* c, double in, double out, int by, int err) {
  if (E->ev_n == E->ev_cap) {
    uint32_t cap = E->ev_cap ? E->ev_cap * 2 : 256;
    double* grown = realloc(E->ev, (size_t)cap * EV_WORDS * sizeof(double));
    if (!grown) abort();  // nowhere to keep an event JavaScript must see
    E->ev = grown;
    E->ev_cap = cap;
  }
  double* e = E->ev + (size_t)E->ev_n++ * EV_WORDS;
  e[0] = type;
  e[1] = c->l->id;
  e[2] = (double)c->id;
  e[3] = in;
  e[4] = out;
  e[5] = by;
  e[6] = err;
}

// Hands the queued events to JavaScript, in order, through its Float64Array: up to its capacity per call, the
// count as the argument. Called at the end of every batch and before any other call into JavaScript (accept,
// connect failure, prelude), so JavaScript sees every event in the order it happened. Events queued by the calls
// JavaScript makes meanwhile wait behind the rest and go in a later turn of the loop below.
void flush_events(void) {
  if (E->flushing) return;
  E->flushing = 1;
  while (E->ev_n) {
    uint32_t n = E->ev_n < E->shared_cap ? E->ev_n : E->shared_cap;
    memcpy(E->shared, E->ev, (size_t)n * EV_WORDS * sizeof(double));
    E->ev_n -= n;
    memmove(E->ev, E->ev + (size_t)n * EV_WORDS, (size_t)E->ev_n * EV_WORDS * sizeof(double));
    napi_handle_scope scope;
    napi_open_handle_scope(E->env, &scope);
    napi_value count = num(n);
    call_js(E->on_events, 1, &count, NULL);
    napi_close_handle_scope(E->env, scope);
  }
  E->flushing = 0;
}

// Opens the scopes a call into JavaScript from a libuv callback needs (microtasks run when they close);
// connections released meanwhile are freed on the way out.
typedef struct {
  napi_handle_scope hs;
  napi_callback_scope cs;
} js_scope;
void enter_js(js_scope* s) {
  napi_open_handle_scope(E->env, &s->hs);
  napi_value resource;
  napi_get_reference_value(E->env, E->resource, &resource);
  napi_open_callback_scope(E->env, resource, E->async, &s->cs);
  E->dispatching = 1;
}
void leave_js(js_scope* s) {
  flush_events();
  E->dispatching = 0;
  free_released();
  napi_close_callback_scope(E->env, s->cs);
  napi_close_handle_scope(E->env, s->hs);
}

void on_poll(uv_poll_t* h, int status, int events) {
  (void)h;
  (void)status;
  (void)events;
  struct epoll_event evs[MAX_EVENTS];
  js_scope scope;
  enter_js(&scope);
  // Serving events makes more: a connect to a local backend often completes within connect() itself, a
  // backend answers the bytes just sent. They are served in further rounds of this call rather than on
  // the next turn of Node's loop (a wake-up and a second epoll_wait each), up to MAX_ROUNDS so timers and
  // other handles still get their turn under load.
  for (int round = 0; round < MAX_ROUNDS; round++) {
    int n = epoll_wait(E->epfd, evs, MAX_EVENTS, 0);
    for (int i = 0; i < n; i++) {
      uint8_t kind = *(uint8_t*)evs[i].data.ptr;
      if (kind == K_LISTENER) on_accept((listener*)evs[i].data.ptr);
      else on_side((side*)evs[i].data.ptr, evs[i].events);
    }
    send_held_acks();
    if (n == 0) break;
    // JavaScript decides on this round's connections now: the connects it starts complete in the next rounds.
    flush_events();
    E->dispatching = 0;
    free_released();
    E->dispatching = 1;
  }
  leave_js(&scope);
}

// Connections that stopped after MAX_READS with bytes still waiting: one more turn each.
void serve_ready(uv_idle_t* h) {
  (void)h;
  if (!E->ready) {
    uv_idle_stop(&E->idle);
    E->idle_on = 0;
    return;
  }
  js_scope scope;
  enter_js(&scope);
  conn* c = E->ready;
  E->ready = NULL;
  for (conn* x = c; x; x = x->rnext) x->in_ready = 0;
  while (c) {
    conn* next = c->rnext;  // released connections stay allocated until leave_js
    c->rnext = c->rprev = NULL;
    if (c->state == S_OPEN && c->readable[0] && !pending(c, 0)) pump(c, 0);
    if (c->state == S_OPEN && c->readable[1] && !pending(c, 1)) pump(c, 1);
    c = next;
  }
  leave_js(&scope);
}

// The timer is one-shot, set for the earliest connect deadline: a busy sidecar whose connects complete in
// microseconds wakes for it about once per connect timeout, not every TICK_MS.
void arm_deadline_timer(int64_t due) {
  int64_t wait = due - now_ms();
  E->timer_on = 1;
  E->timer_due = due;
  uv_timer_start(&E->timer, tick, wait > 0 ? (uint64_t)wait : 0, 0);
}

// Fails the connects whose deadline passed, then sets the timer for the next deadline (or stops).
void tick(uv_timer_t* t) {
  (void)t;
  E->timer_on = 0;
  int64_t now = now_ms();
  int expired = 0;
  for (conn* c = E->connecting; c && !expired; c = c->cnext) expired = now >= c->deadline_ms;
  if (expired) {
    js_scope scope;
    enter_js(&scope);
    conn* c = E->connecting;
    while (c) {
      conn* next = c->cnext;
      if (now >= c->deadline_ms) {
        connect_failed(c, ETIMEDOUT);
        next = E->connecting;  // the callback may have changed the list: start over (expired ones are gone)
      }
      c = next;
    }
    leave_js(&scope);
  }
  // Connects made by the callbacks may have set the timer for their own deadline: set it for the earliest.
  if (!E->connecting) {
    if (E->timer_on) uv_timer_stop(&E->timer);
    E->timer_on = 0;
    return;
  }
  int64_t due = E->connecting->deadline_ms;
  for (conn* c = E->connecting->cnext; c; c = c->cnext)
    if (c->deadline_ms < due) due = c->deadline_ms;
  // Deadlines are checked at most every TICK_MS: a stream of connects timing out one by one costs a wake-up
  // per TICK_MS, not one per connection.
  arm_deadline_timer(due > now + TICK_MS ? due : now + TICK_MS);
}
