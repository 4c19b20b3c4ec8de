// The sidecar's native TCP data path: accept, connect and splice on an epoll set of its own, driven from Node's
// event loop (the epoll fd is one uv_poll handle). JavaScript keeps every decision: it is called once per
// accepted connection (admit or refuse, pick a backend and connect), on connect success or failure (fail over),
// and once when the connection ends (bytes, who closed, error) to count and log it.
//
// Why not libuv streams: on this kind of VM a short connection is ~85% kernel time, and libuv spends about five
// syscalls per connection that a proxy does not need (an epoll_ctl DEL before each close, getsockopt(SO_ERROR)
// on every connect, getpeername because accept is called without an address, MOD calls as reads start and
// stop), plus an event-loop round trip per step. Here every socket is registered once, edge-triggered, for
// reads and writes (no MOD, no DEL: close() removes it), accept4 returns the peer address, a connect is known
// to have succeeded from its first EPOLLOUT, and a short read means the socket is drained (as nginx does).
//
//   client ──accept4──▶ conn ──connect──▶ backend
//            EPOLLIN: read ▶ send (rest kept in `pend`, reading that side stops until it is flushed)
//            FIN: shutdown(SHUT_WR) on the other side once its pending bytes are out; both FINs: close both
//            error or reset on one side: reset the other (SO_LINGER 0)
//
// Single-threaded: everything runs on Node's main thread, inside the uv_poll callback or a call from JS.
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define SCRATCH_SIZE (64 * 1024)
#define MAX_EVENTS 256
#define MAX_LISTENERS 1024
#define TICK_MS 10
// Reads per side per turn (1 MiB): a connection that still has bytes waiting goes on the ready list and is
// served again on the next loop iteration, so a bulk transfer cannot hold up other connections or Node's loop.
#define MAX_READS 16

enum kind { K_LISTENER = 1, K_SIDE = 2 };
enum state { S_WAITING, S_CONNECTING, S_OPEN, S_DONE };
enum closed_by { C_NONE = -1, C_CLIENT, C_BACKEND, C_CLIENT_RESET, C_BACKEND_RESET, C_IDLE, C_SHUTDOWN };

typedef struct conn conn;

typedef struct {
  uint8_t kind;  // K_LISTENER
  int id;
  int fd;
  int open;
  conn* head;  // this listener's connections
} listener;

typedef struct {
  uint8_t kind;  // K_SIDE
  uint8_t which;  // 0 client, 1 backend
  conn* c;
} side;

struct conn {
  side s[2];
  uint32_t id;
  listener* l;
  int fd[2];
  enum state state;
  uint8_t readable[2];  // an edge was seen and the socket is not known to be drained
  uint8_t rdhup[2];     // the peer's FIN (or an error) is queued: read to the end, not just to a short read
  uint8_t eof[2];       // FIN read from this side
  uint8_t shut[2];      // we sent FIN (shutdown SHUT_WR) towards this side
  uint8_t no_delay;
  int closed_by;
  int error;
  // Bytes read from side d not yet written to the other side (d = 0: client → backend).
  char* pend[2];
  uint32_t pend_len[2];
  uint32_t pend_off[2];
  double bytes[2];
  double reported[2];
  int64_t started_ms;
  int64_t last_active_ms;
  int64_t deadline_ms;  // connect deadline
  int64_t idle_ms;
  int keepalive_defer_s;  // keep-alive to set on the backend once the connection has lived a second
  conn* next;  // in the listener's list
  conn* prev;
  conn* cnext;  // in the connecting list
  conn* cprev;
  conn* rnext;  // in the ready list
  conn* rprev;
  uint8_t in_ready;
  conn* free_next;
};

typedef struct {
  napi_env env;
  int epfd;
  uv_poll_t poll;
  uv_timer_t timer;
  int timer_on;
  uv_idle_t idle;  // runs while the ready list is not empty
  int idle_on;
  conn* ready;
  napi_ref on_accept, on_connected, on_connect_fail, on_close;
  napi_ref resource;
  napi_async_context async;
  listener* listeners[MAX_LISTENERS];
  conn* connecting;
  conn* to_free;
  uint32_t next_id;
  uint32_t live;  // connections not yet freed
  int nlisteners;
  int closed_listeners;  // stopped listeners still waiting for their connections to end
  int referenced;
  int dispatching;  // inside on_poll or tick: freeing waits until the batch is done
  // Connection ids → conn, open addressing (ids are never reused within 2^32 connections).
  conn** table;
  uint32_t table_mask;
  uint32_t table_used;
  char scratch[SCRATCH_SIZE];
} engine;

static engine* E;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// ---- id table -------------------------------------------------------------------------------------------------

static void table_put(conn* c);
// Rebuilt (dropping tombstones) when half full, at four times the live connections.
static void table_grow(void) {
  conn** old = E->table;
  uint32_t old_size = old ? E->table_mask + 1 : 0;
  uint32_t size = 1024;
  while (size < 4 * (E->live + 1)) size *= 2;
  E->table = calloc(size, sizeof(conn*));
  E->table_mask = size - 1;
  E->table_used = 0;
  if (old) {
    for (uint32_t i = 0; i < old_size; i++)
      if (old[i] && old[i] != (conn*)1) table_put(old[i]);
    free(old);
  }
}
static void table_put(conn* c) {
  if (!E->table || (E->table_used + 1) * 2 > E->table_mask + 1) table_grow();
  uint32_t i = c->id & E->table_mask;
  while (E->table[i] && E->table[i] != (conn*)1) i = (i + 1) & E->table_mask;
  if (!E->table[i]) E->table_used++;
  E->table[i] = c;
}
static conn* table_get(uint32_t id) {
  if (!E->table) return NULL;
  uint32_t i = id & E->table_mask;
  while (E->table[i]) {
    if (E->table[i] != (conn*)1 && E->table[i]->id == id) return E->table[i];
    i = (i + 1) & E->table_mask;
  }
  return NULL;
}
static void table_del(conn* c) {
  uint32_t i = c->id & E->table_mask;
  while (E->table[i]) {
    if (E->table[i] == c) {
      E->table[i] = (conn*)1;  // tombstone: keeps probe chains intact
      return;
    }
    i = (i + 1) & E->table_mask;
  }
}

// ---- keeping Node's loop alive only while there is something to serve ----------------------------------------

static void update_ref(void) {
  int want = E->nlisteners > 0 || E->live > 0;
  if (want == E->referenced) return;
  E->referenced = want;
  if (want) uv_ref((uv_handle_t*)&E->poll);
  else uv_unref((uv_handle_t*)&E->poll);
}

// ---- calls into JavaScript --------------------------------------------------------------------------------

// Exceptions thrown by a callback become uncaught exceptions, as they would from any Node callback.
static void call_js(napi_ref ref, size_t argc, napi_value* argv, napi_value* result) {
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

static napi_value num(double v) {
  napi_value out;
  napi_create_double(E->env, v, &out);
  return out;
}

static napi_value str_or_undefined(const char* s) {
  napi_value out;
  if (s) napi_create_string_latin1(E->env, s, NAPI_AUTO_LENGTH, &out);
  else napi_get_undefined(E->env, &out);
  return out;
}

static const char* errno_name(int err) {
  const char* n = err ? strerrorname_np(err) : NULL;
  return n ? n : (err ? "EIO" : NULL);
}

// ---- connection lifecycle -----------------------------------------------------------------------------------

static void connecting_remove(conn* c) {
  if (!c->cprev && E->connecting != c) return;
  if (c->cprev) c->cprev->cnext = c->cnext;
  else E->connecting = c->cnext;
  if (c->cnext) c->cnext->cprev = c->cprev;
  c->cnext = c->cprev = NULL;
}

static void tick(uv_timer_t* t);
static void connecting_add(conn* c) {
  c->cprev = NULL;
  c->cnext = E->connecting;
  if (E->connecting) E->connecting->cprev = c;
  E->connecting = c;
  if (!E->timer_on) {
    E->timer_on = 1;
    uv_timer_start(&E->timer, tick, TICK_MS, TICK_MS);
  }
}

static void serve_ready(uv_idle_t* h);
static void ready_add(conn* c) {
  if (c->in_ready) return;
  c->in_ready = 1;
  c->rprev = NULL;
  c->rnext = E->ready;
  if (E->ready) E->ready->rprev = c;
  E->ready = c;
  if (!E->idle_on) {
    E->idle_on = 1;
    uv_idle_start(&E->idle, serve_ready);
  }
}

static void ready_remove(conn* c) {
  if (!c->in_ready) return;
  c->in_ready = 0;
  if (c->rprev) c->rprev->rnext = c->rnext;
  else E->ready = c->rnext;
  if (c->rnext) c->rnext->rprev = c->rprev;
  c->rnext = c->rprev = NULL;
}

static void reset_fd(int fd) {
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
}

// Unlinks the connection and queues it to be freed after the current batch of events (an event for it may
// still be in that batch). Its fds must already be closed.
static void release(conn* c) {
  c->state = S_DONE;
  c->fd[0] = c->fd[1] = -1;
  connecting_remove(c);
  ready_remove(c);
  if (c->prev) c->prev->next = c->next;
  else if (c->l && c->l->head == c) c->l->head = c->next;
  if (c->next) c->next->prev = c->prev;
  c->next = c->prev = NULL;
  table_del(c);
  for (int d = 0; d < 2; d++) {
    free(c->pend[d]);
    c->pend[d] = NULL;
  }
  c->free_next = E->to_free;
  E->to_free = c;
}

static void free_released(void) {
  if (E->dispatching) return;
  while (E->to_free) {
    conn* c = E->to_free;
    E->to_free = c->free_next;
    free(c);
    E->live--;
  }
  for (int i = 0; E->closed_listeners > 0 && i < MAX_LISTENERS; i++) {
    listener* l = E->listeners[i];
    if (l && !l->open && !l->head) {
      E->listeners[i] = NULL;
      E->closed_listeners--;
      free(l);
    }
  }
  update_ref();
}

// Ends the connection and tells JavaScript how it went. `reset_mask` bit d: reset side d instead of closing it.
static void finish(conn* c, int reset_mask) {
  if (c->state == S_DONE) return;
  for (int d = 0; d < 2; d++) {
    if (c->fd[d] < 0) continue;
    if (reset_mask & (1 << d)) reset_fd(c->fd[d]);
    else close(c->fd[d]);
  }
  uint32_t id = c->id;
  int lid = c->l->id;
  double in = c->bytes[0] - c->reported[0], out = c->bytes[1] - c->reported[1];
  int by = c->closed_by == C_NONE ? C_CLIENT : c->closed_by;
  const char* err = errno_name(c->error);
  release(c);
  napi_handle_scope scope;
  napi_open_handle_scope(E->env, &scope);
  napi_value argv[6] = {num(lid), num(id), num(in), num(out), num(by), str_or_undefined(err)};
  call_js(E->on_close, 6, argv, NULL);
  napi_close_handle_scope(E->env, scope);
}

// An error on side d: d is closed, the other side reset, so its peer learns at once.
static void fail(conn* c, int d, int err) {
  if (c->closed_by == C_NONE) {
    c->closed_by = d == 0 ? C_CLIENT_RESET : C_BACKEND_RESET;
    c->error = err;
  }
  finish(c, 1 << (1 - d));
}

static void maybe_done(conn* c) {
  if (c->eof[0] && c->eof[1] && !c->pend_len[0] && !c->pend_len[1]) finish(c, 0);
}

// FIN read from side d: pass it on once the bytes before it are out. With both FINs seen, close() sends the
// FIN a shutdown() would, one syscall fewer.
static void forward_eof(conn* c, int d) {
  if (c->closed_by == C_NONE) c->closed_by = d == 0 ? C_CLIENT : C_BACKEND;
  if (c->pend_len[d]) return;
  if (c->eof[1 - d]) {
    maybe_done(c);
    return;
  }
  if (!c->shut[1 - d]) {
    c->shut[1 - d] = 1;
    shutdown(c->fd[1 - d], SHUT_WR);
  }
}

// Writes what is pending from side d to the other side. Returns 1 when nothing is left pending.
static int flush(conn* c, int d) {
  while (c->pend_len[d] > c->pend_off[d]) {
    ssize_t w = send(c->fd[1 - d], c->pend[d] + c->pend_off[d], c->pend_len[d] - c->pend_off[d],
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) return 0;
      fail(c, 1 - d, errno);
      return 0;
    }
    c->pend_off[d] += (uint32_t)w;
  }
  free(c->pend[d]);
  c->pend[d] = NULL;
  c->pend_len[d] = c->pend_off[d] = 0;
  return 1;
}

static void keep(conn* c, int d, const char* data, size_t n) {
  c->pend[d] = malloc(n);
  memcpy(c->pend[d], data, n);
  c->pend_len[d] = (uint32_t)n;
  c->pend_off[d] = 0;
}

// Moves bytes from side d to the other side until d is drained or the other side cannot take more.
static void pump(conn* c, int d) {
  if (c->state != S_OPEN) return;
  if (c->pend_len[d]) {
    if (!flush(c, d) || c->state == S_DONE) return;
    if (c->eof[d]) {
      forward_eof(c, d);
      return;
    }
  }
  char* buf = E->scratch;
  int reads = 0;
  while (c->readable[d] && !c->eof[d]) {
    if (reads++ == MAX_READS) {
      ready_add(c);
      return;
    }
    ssize_t n = recv(c->fd[d], buf, SCRATCH_SIZE, 0);
    if (n > 0) {
      c->bytes[d] += (double)n;
      c->last_active_ms = now_ms();
      ssize_t w = send(c->fd[1 - d], buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) {
        if (errno != EAGAIN && errno != EINTR) {
          fail(c, 1 - d, errno);
          return;
        }
        w = 0;
      }
      if (w < n) {
        keep(c, d, buf + w, (size_t)(n - w));
        return;
      }
      if (n < SCRATCH_SIZE && !c->rdhup[d]) c->readable[d] = 0;  // a short read drained the socket
    } else if (n == 0) {
      c->eof[d] = 1;
      c->readable[d] = 0;
      forward_eof(c, d);
      return;
    } else if (errno == EAGAIN) {
      c->readable[d] = 0;
    } else if (errno != EINTR) {
      fail(c, d, errno);
      return;
    }
  }
}

static void start_splice(conn* c) {
  c->state = S_OPEN;
  pump(c, 0);
  if (c->state == S_OPEN) pump(c, 1);
}

static void connect_failed(conn* c, int err) {
  connecting_remove(c);
  close(c->fd[1]);
  c->fd[1] = -1;
  c->state = S_WAITING;
  napi_handle_scope scope;
  napi_open_handle_scope(E->env, &scope);
  napi_value argv[3] = {num(c->l->id), num(c->id), str_or_undefined(errno_name(err))};
  call_js(E->on_connect_fail, 3, argv, NULL);
  napi_close_handle_scope(E->env, scope);
}

static void on_side(side* s, uint32_t ev) {
  conn* c = s->c;
  int d = s->which;
  if (c->state == S_DONE) return;
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) c->readable[d] = 1;
  if (ev & (EPOLLRDHUP | EPOLLERR | EPOLLHUP)) c->rdhup[d] = 1;
  if (c->state == S_CONNECTING && d == 1) {
    // An error, or a hang-up without ever being writable, is a failed connect; the first EPOLLOUT a success
    // (a backend that accepts and at once resets is then a backend reset, as it would be a moment later).
    if ((ev & EPOLLERR) || ((ev & EPOLLHUP) && !(ev & EPOLLOUT))) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len);
      c->readable[1] = c->rdhup[1] = 0;
      connect_failed(c, err ? err : ECONNREFUSED);
      return;
    }
    if (!(ev & EPOLLOUT)) return;
    connecting_remove(c);
    c->state = S_OPEN;
    napi_handle_scope scope;
    napi_open_handle_scope(E->env, &scope);
    napi_value argv[2] = {num(c->l->id), num(c->id)};
    call_js(E->on_connected, 2, argv, NULL);
    napi_close_handle_scope(E->env, scope);
    if (c->state != S_OPEN) return;
    start_splice(c);
    return;
  }
  if (c->state != S_OPEN) {
    // Waiting for a backend: a client that resets now ends it; its bytes and FIN wait for the splice.
    if (d == 0 && (ev & EPOLLERR)) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c->fd[0], SOL_SOCKET, SO_ERROR, &err, &len);
      fail(c, 0, err ? err : ECONNRESET);
    }
    return;
  }
  if (ev & EPOLLERR) {
    // Noticed even while this side is not being read (its bytes wait for the other side to drain).
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd[d], SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      fail(c, d, err);
      return;
    }
  }
  // Writable: bytes waiting for this side go out, and their source is read again.
  if ((ev & EPOLLOUT) && c->pend_len[1 - d]) {
    pump(c, 1 - d);
    if (c->state != S_OPEN) return;
  }
  if (c->readable[d] && !c->pend_len[d]) pump(c, d);
}

static void on_accept(listener* l) {
  // Edge-triggered: accept until the queue is empty.
  while (l->open) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int fd = accept4(l->fd, (struct sockaddr*)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      if (errno == ECONNABORTED) continue;
      return;  // EMFILE and friends: the next edge retries
    }
    char ip[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (sa.ss_family == AF_INET) {
      struct sockaddr_in* a = (struct sockaddr_in*)&sa;
      inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
      port = ntohs(a->sin_port);
    } else if (sa.ss_family == AF_INET6) {
      struct sockaddr_in6* a = (struct sockaddr_in6*)&sa;
      inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
      port = ntohs(a->sin6_port);
    }
    conn* c = calloc(1, sizeof(conn));
    c->s[0] = (side){K_SIDE, 0, c};
    c->s[1] = (side){K_SIDE, 1, c};
    c->id = ++E->next_id;
    c->l = l;
    c->fd[0] = fd;
    c->fd[1] = -1;
    c->closed_by = C_NONE;
    c->started_ms = c->last_active_ms = now_ms();
    c->next = l->head;
    if (l->head) l->head->prev = c;
    l->head = c;
    table_put(c);
    E->live++;
    update_ref();
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = &c->s[0]};
    epoll_ctl(E->epfd, EPOLL_CTL_ADD, fd, &ev);
    napi_handle_scope scope;
    napi_open_handle_scope(E->env, &scope);
    napi_value argv[4];
    napi_create_int32(E->env, l->id, &argv[0]);
    argv[1] = num(c->id);
    napi_create_string_latin1(E->env, ip, NAPI_AUTO_LENGTH, &argv[2]);
    napi_create_int32(E->env, port, &argv[3]);
    call_js(E->on_accept, 4, argv, NULL);
    napi_close_handle_scope(E->env, scope);
  }
}

// Opens the scopes a call into JavaScript from a libuv callback needs (microtasks run when they close);
// connections released meanwhile are freed on the way out.
typedef struct {
  napi_handle_scope hs;
  napi_callback_scope cs;
} js_scope;
static void enter_js(js_scope* s) {
  napi_open_handle_scope(E->env, &s->hs);
  napi_value resource;
  napi_get_reference_value(E->env, E->resource, &resource);
  napi_open_callback_scope(E->env, resource, E->async, &s->cs);
  E->dispatching = 1;
}
static void leave_js(js_scope* s) {
  E->dispatching = 0;
  free_released();
  napi_close_callback_scope(E->env, s->cs);
  napi_close_handle_scope(E->env, s->hs);
}

static void on_poll(uv_poll_t* h, int status, int events) {
  (void)h;
  (void)status;
  (void)events;
  struct epoll_event evs[MAX_EVENTS];
  js_scope scope;
  enter_js(&scope);
  for (int round = 0; round < 4; round++) {
    int n = epoll_wait(E->epfd, evs, MAX_EVENTS, 0);
    for (int i = 0; i < n; i++) {
      uint8_t kind = *(uint8_t*)evs[i].data.ptr;
      if (kind == K_LISTENER) on_accept((listener*)evs[i].data.ptr);
      else on_side((side*)evs[i].data.ptr, evs[i].events);
    }
    if (n < MAX_EVENTS) break;
    E->dispatching = 0;
    free_released();
    E->dispatching = 1;
  }
  leave_js(&scope);
}

// Connections that stopped after MAX_READS with bytes still waiting: one more turn each.
static void serve_ready(uv_idle_t* h) {
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
    if (c->state == S_OPEN && c->readable[0] && !c->pend_len[0]) pump(c, 0);
    if (c->state == S_OPEN && c->readable[1] && !c->pend_len[1]) pump(c, 1);
    c = next;
  }
  leave_js(&scope);
}

// Connect deadlines, checked every TICK_MS while any connection is connecting.
static void tick(uv_timer_t* t) {
  (void)t;
  if (!E->connecting) {
    uv_timer_stop(&E->timer);
    E->timer_on = 0;
    return;
  }
  int64_t now = now_ms();
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

// ---- functions called from JavaScript ---------------------------------------------------------------------

#define ARGS(n)                                               \
  size_t argc = n;                                            \
  napi_value argv[n];                                         \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);

static int32_t arg_i32(napi_env env, napi_value v) {
  int32_t out = 0;
  napi_get_value_int32(env, v, &out);
  return out;
}
static double arg_f64(napi_env env, napi_value v) {
  double out = 0;
  napi_get_value_double(env, v, &out);
  return out;
}
static napi_value ret_i32(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}
static conn* arg_conn(napi_env env, napi_value v) {
  return table_get((uint32_t)arg_f64(env, v));
}

static int parse_addr(const char* ip, int port, struct sockaddr_storage* sa, socklen_t* len) {
  memset(sa, 0, sizeof *sa);
  struct sockaddr_in* a4 = (struct sockaddr_in*)sa;
  struct sockaddr_in6* a6 = (struct sockaddr_in6*)sa;
  if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    *len = sizeof *a6;
    return AF_INET6;
  }
  return -1;
}

static napi_value throw_errno(napi_env env, int err, const char* what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, errno_name(err), msg);
  return NULL;
}

// init(accept(lid, cid, ip, port), connected(lid, cid), connectFail(lid, cid, errno),
//      close(lid, cid, bytesIn, bytesOut, closedBy, errno?))
static napi_value js_init(napi_env env, napi_callback_info info) {
  ARGS(4)
  if (E) return NULL;
  E = calloc(1, sizeof(engine));
  E->env = env;
  E->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (E->epfd < 0) return throw_errno(env, errno, "epoll_create1");
  napi_create_reference(env, argv[0], 1, &E->on_accept);
  napi_create_reference(env, argv[1], 1, &E->on_connected);
  napi_create_reference(env, argv[2], 1, &E->on_connect_fail);
  napi_create_reference(env, argv[3], 1, &E->on_close);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &E->resource);
  napi_create_string_utf8(env, "switchyard.native", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &E->async);
  uv_loop_t* loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &E->poll, E->epfd);
  uv_poll_start(&E->poll, UV_READABLE, on_poll);
  uv_timer_init(loop, &E->timer);
  uv_unref((uv_handle_t*)&E->timer);
  uv_idle_init(loop, &E->idle);
  uv_unref((uv_handle_t*)&E->idle);
  uv_unref((uv_handle_t*)&E->poll);
  return NULL;
}

// listen(host, port, reusePort, backlog) → listener id; throws with the errno name as code.
static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(4)
  if (!E) {
    napi_throw_error(env, NULL, "init() first");
    return NULL;
  }
  char host[INET6_ADDRSTRLEN + 1];
  size_t hl;
  napi_get_value_string_latin1(env, argv[0], host, sizeof host, &hl);
  int port = arg_i32(env, argv[1]);
  bool reuse_port = false;
  napi_get_value_bool(env, argv[2], &reuse_port);
  int backlog = arg_i32(env, argv[3]);
  struct sockaddr_storage sa;
  socklen_t len;
  int family = parse_addr(host, port, &sa, &len);
  if (family < 0) return throw_errno(env, EINVAL, "listen address");
  int id = -1;
  for (int i = 0; i < MAX_LISTENERS && id < 0; i++)
    if (!E->listeners[i]) id = i;
  if (id < 0) return throw_errno(env, EMFILE, "listen");
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "SO_REUSEPORT");
  }
  if (bind(fd, (struct sockaddr*)&sa, len) < 0 || listen(fd, backlog) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "listen");
  }
  listener* l = calloc(1, sizeof(listener));
  l->kind = K_LISTENER;
  l->id = id;
  l->fd = fd;
  l->open = 1;
  E->listeners[id] = l;
  E->nlisteners++;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = l};
  epoll_ctl(E->epfd, EPOLL_CTL_ADD, fd, &ev);
  update_ref();
  return ret_i32(env, id);
}

static listener* arg_listener(napi_env env, napi_value v) {
  int id = arg_i32(env, v);
  return id >= 0 && id < MAX_LISTENERS ? E->listeners[id] : NULL;
}

// localPort(lid)
static napi_value js_local_port(napi_env env, napi_callback_info info) {
  ARGS(1)
  listener* l = arg_listener(env, argv[0]);
  struct sockaddr_storage sa;
  socklen_t len = sizeof sa;
  if (!l || l->fd < 0 || getsockname(l->fd, (struct sockaddr*)&sa, &len) < 0) return ret_i32(env, 0);
  return ret_i32(env, ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6*)&sa)->sin6_port
                                                    : ((struct sockaddr_in*)&sa)->sin_port));
}

static void set_keepalive(int fd, int on, int secs) {
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  if (!on) return;
  // As libuv sets it: first probe after `secs` of silence, then every second, ten probes.
  int intvl = 1, cnt = 10;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &secs, sizeof secs);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

// listenOptions(lid, noDelay, keepAliveSecs): set on the listening socket, Linux copies them to every accepted
// socket (no setsockopt per connection).
static napi_value js_listen_options(napi_env env, napi_callback_info info) {
  ARGS(3)
  listener* l = arg_listener(env, argv[0]);
  if (!l || l->fd < 0) return NULL;
  bool nd = false;
  napi_get_value_bool(env, argv[1], &nd);
  int on = nd ? 1 : 0;
  setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  int ka = arg_i32(env, argv[2]);
  set_keepalive(l->fd, ka > 0, ka);
  return NULL;
}

// unlisten(lid): stops accepting; open connections go on.
static napi_value js_unlisten(napi_env env, napi_callback_info info) {
  ARGS(1)
  listener* l = arg_listener(env, argv[0]);
  if (!l || !l->open) return NULL;
  l->open = 0;
  close(l->fd);
  l->fd = -1;
  E->nlisteners--;
  E->closed_listeners++;
  free_released();
  return NULL;
}

// connect(cid, ip, port, timeoutMs, noDelay, idleMs, keepAliveSecs, keepAliveDeferSecs, prefix?) → 0 or -errno
// (an immediate failure; later failures come through connectFail).
static napi_value js_connect(napi_env env, napi_callback_info info) {
  ARGS(9)
  conn* c = arg_conn(env, argv[0]);
  if (!c || c->state != S_WAITING) return ret_i32(env, -ENOENT);
  char ip[INET6_ADDRSTRLEN + 1];
  size_t il;
  napi_get_value_string_latin1(env, argv[1], ip, sizeof ip, &il);
  int port = arg_i32(env, argv[2]);
  int64_t timeout = (int64_t)arg_f64(env, argv[3]);
  bool nd = false;
  napi_get_value_bool(env, argv[4], &nd);
  c->idle_ms = (int64_t)arg_f64(env, argv[5]);
  int ka = arg_i32(env, argv[6]);
  c->keepalive_defer_s = arg_i32(env, argv[7]);
  napi_valuetype t;
  napi_typeof(env, argv[8], &t);
  if (t == napi_object && !c->pend_len[0]) {
    void* data;
    size_t n;
    if (napi_get_buffer_info(env, argv[8], &data, &n) == napi_ok && n) keep(c, 0, data, n);
  }
  struct sockaddr_storage sa;
  socklen_t len;
  int family = parse_addr(ip, port, &sa, &len);
  if (family < 0) return ret_i32(env, -EINVAL);
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ret_i32(env, -errno);
  if (nd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (ka > 0) set_keepalive(fd, 1, ka);
  if (connect(fd, (struct sockaddr*)&sa, len) < 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return ret_i32(env, -err);
  }
  c->fd[1] = fd;
  c->state = S_CONNECTING;
  c->deadline_ms = now_ms() + timeout;
  connecting_add(c);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = &c->s[1]};
  epoll_ctl(E->epfd, EPOLL_CTL_ADD, fd, &ev);
  return ret_i32(env, 0);
}

// refuse(cid): resets the client (refused, no backend tried). endClient(cid): closes it with a FIN (no backend
// could be reached). Neither reports through `close`: the caller accounts for it.
static napi_value end_client(napi_env env, napi_callback_info info, int reset) {
  ARGS(1)
  conn* c = arg_conn(env, argv[0]);
  if (!c || c->state == S_DONE) return NULL;
  connecting_remove(c);
  if (c->fd[1] >= 0) close(c->fd[1]);
  if (reset) reset_fd(c->fd[0]);
  else close(c->fd[0]);
  release(c);
  return NULL;
}
static napi_value js_refuse(napi_env env, napi_callback_info info) { return end_client(env, info, 1); }
static napi_value js_end_client(napi_env env, napi_callback_info info) { return end_client(env, info, 0); }

// localAddress(cid) → [address, port] of the client connection's local end (for PROXY headers), or undefined.
static napi_value js_local_address(napi_env env, napi_callback_info info) {
  ARGS(1)
  conn* c = arg_conn(env, argv[0]);
  napi_value out;
  napi_get_undefined(env, &out);
  struct sockaddr_storage sa;
  socklen_t len = sizeof sa;
  if (!c || c->fd[0] < 0 || getsockname(c->fd[0], (struct sockaddr*)&sa, &len) < 0) return out;
  char ip[INET6_ADDRSTRLEN] = "";
  int port;
  if (sa.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &((struct sockaddr_in6*)&sa)->sin6_addr, ip, sizeof ip);
    port = ntohs(((struct sockaddr_in6*)&sa)->sin6_port);
  } else {
    inet_ntop(AF_INET, &((struct sockaddr_in*)&sa)->sin_addr, ip, sizeof ip);
    port = ntohs(((struct sockaddr_in*)&sa)->sin_port);
  }
  napi_value a, p;
  napi_create_array_with_length(env, 2, &out);
  napi_create_string_latin1(env, ip, NAPI_AUTO_LENGTH, &a);
  napi_create_int32(env, port, &p);
  napi_set_element(env, out, 0, a);
  napi_set_element(env, out, 1, p);
  return out;
}

// sweep(lid) → Float64Array of [cid, bytesIn, bytesOut] since the last report, for open connections with new
// bytes. Closes connections idle for their idle timeout (reported through `close` as idle-timeout) and sets
// the deferred keep-alive on backends of connections that have lived a second.
static napi_value js_sweep(napi_env env, napi_callback_info info) {
  ARGS(1)
  listener* l = arg_listener(env, argv[0]);
  napi_value ab, out;
  if (!l) {
    napi_create_arraybuffer(env, 0, NULL, &ab);
    napi_create_typedarray(env, napi_float64_array, 0, ab, 0, &out);
    return out;
  }
  int64_t now = now_ms();
  size_t count = 0;
  for (conn* c = l->head; c; c = c->next)
    if (c->bytes[0] != c->reported[0] || c->bytes[1] != c->reported[1]) count++;
  double* data;
  napi_create_arraybuffer(env, count * 3 * sizeof(double), (void**)&data, &ab);
  size_t k = 0;
  conn* c = l->head;
  while (c) {
    conn* next = c->next;
    if (c->state == S_OPEN && c->idle_ms > 0 && now - c->last_active_ms >= c->idle_ms) {
      // Its last bytes are reported through `close`, with the rest.
      if (c->closed_by == C_NONE) c->closed_by = C_IDLE;
      finish(c, 0);
      c = l->head;  // JS ran: start over (finished ones are unlinked, reported ones have no new bytes)
      continue;
    }
    if (k < count && (c->bytes[0] != c->reported[0] || c->bytes[1] != c->reported[1])) {
      data[k * 3] = c->id;
      data[k * 3 + 1] = c->bytes[0] - c->reported[0];
      data[k * 3 + 2] = c->bytes[1] - c->reported[1];
      c->reported[0] = c->bytes[0];
      c->reported[1] = c->bytes[1];
      k++;
    }
    if (c->state == S_OPEN && c->keepalive_defer_s > 0 && now - c->started_ms >= 1000) {
      set_keepalive(c->fd[1], 1, c->keepalive_defer_s);
      c->keepalive_defer_s = 0;
    }
    c = next;
  }
  napi_create_typedarray(env, napi_float64_array, k * 3, ab, 0, &out);
  free_released();
  return out;
}

// abort(lid): resets every connection of the listener (drain deadline passed), reported as shutdown.
static napi_value js_abort(napi_env env, napi_callback_info info) {
  ARGS(1)
  listener* l = arg_listener(env, argv[0]);
  if (!l) return NULL;
  while (l->head) {
    conn* c = l->head;
    if (c->closed_by == C_NONE) c->closed_by = C_SHUTDOWN;
    finish(c, 3);
  }
  free_released();
  return NULL;
}

// activeConnections(lid)
static napi_value js_active(napi_env env, napi_callback_info info) {
  ARGS(1)
  listener* l = arg_listener(env, argv[0]);
  int32_t n = 0;
  if (l)
    for (conn* c = l->head; c; c = c->next) n++;
  return ret_i32(env, n);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor fns[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_default, NULL},
      {"listen", NULL, js_listen, NULL, NULL, NULL, napi_default, NULL},
      {"localPort", NULL, js_local_port, NULL, NULL, NULL, napi_default, NULL},
      {"listenOptions", NULL, js_listen_options, NULL, NULL, NULL, napi_default, NULL},
      {"unlisten", NULL, js_unlisten, NULL, NULL, NULL, napi_default, NULL},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_default, NULL},
      {"refuse", NULL, js_refuse, NULL, NULL, NULL, napi_default, NULL},
      {"endClient", NULL, js_end_client, NULL, NULL, NULL, napi_default, NULL},
      {"localAddress", NULL, js_local_address, NULL, NULL, NULL, napi_default, NULL},
      {"sweep", NULL, js_sweep, NULL, NULL, NULL, napi_default, NULL},
      {"abort", NULL, js_abort, NULL, NULL, NULL, napi_default, NULL},
      {"active", NULL, js_active, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}
