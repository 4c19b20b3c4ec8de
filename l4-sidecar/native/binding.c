// What JavaScript calls (l4-sidecar/src/io/native.ts declares the same): init, listeners, connects, sweeps.
#include "engine.h"


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
static napi_value pair(napi_env env, napi_value a, napi_value b) {
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, a);
  napi_set_element(env, out, 1, b);
  return out;
}
static conn* arg_conn(napi_env env, napi_value v) {
  return table_get((uint64_t)arg_f64(env, v));
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

// init(accept(lid, cid, ip, port), connectFail(lid, cid, errno), prelude(lid, cid), events(count), shared):
// `shared` is a Float64Array that holds the events of each events() call, EV_WORDS numbers each (engine.h):
// connected, or closed with bytes, who closed and errno.
static napi_value js_init(napi_env env, napi_callback_info info) {
  ARGS(5)
  if (E) return NULL;
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, argv[4], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length < EV_WORDS) {
    napi_throw_type_error(env, NULL, "init: the events array must be a Float64Array");
    return NULL;
  }
  E = calloc(1, sizeof(engine));
  E->env = env;
  const char* splice_env = getenv("SWITCHYARD_L4_SPLICE");
  E->splice = !(splice_env && strcmp(splice_env, "0") == 0);
  E->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (E->epfd < 0) return throw_errno(env, errno, "epoll_create1");
  napi_create_reference(env, argv[0], 1, &E->on_accept);
  napi_create_reference(env, argv[1], 1, &E->on_connect_fail);
  napi_create_reference(env, argv[2], 1, &E->on_prelude);
  napi_create_reference(env, argv[3], 1, &E->on_events);
  E->shared = data;
  E->shared_cap = (uint32_t)(length / EV_WORDS);
  napi_create_reference(env, argv[4], 1, &E->shared_ref);
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
  char ip[INET6_ADDRSTRLEN];
  return ret_i32(env, addr_text(&sa, ip));
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
  // The handshake's last ACK waits for the first bytes to the backend and leaves with them (HAProxy's
  // tcp-smart-connect): the backend's kernel gets one segment fewer and its program finds the connection with
  // the client's first bytes already there. When there are none to send, connected() sends the ACK at once.
  int zero = 0;
  setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
  if (connect(fd, (struct sockaddr*)&sa, len) < 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return ret_i32(env, -err);
  }
  c->fd[1] = fd;
  c->state = S_CONNECTING;
  c->peeking = 0;
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
  if (reset) {
    reset_fd(c->fd[0]);
  } else {
    // Bytes only peeked at (a prelude that was not what it must be) are still queued, and closing a socket
    // with unread bytes sends a reset: read them away first, so the client gets the FIN it is owed.
    for (int i = 0; i < 4; i++)
      if (recv(c->fd[0], E->scratch, SCRATCH_SIZE, MSG_DONTWAIT) <= 0) break;
    close(c->fd[0]);
  }
  release(c);
  return NULL;
}
static napi_value js_refuse(napi_env env, napi_callback_info info) { return end_client(env, info, 1); }
static napi_value js_end_client(napi_env env, napi_callback_info info) { return end_client(env, info, 0); }

// peek(cid, maxBytes) → [bytes queued from the client so far (not consumed), ended]: `ended` once the client
// sent its FIN (or failed), so no more will come. From then on new bytes from the client call prelude(lid, cid)
// until connect(). undefined for an unknown connection.
static napi_value js_peek(napi_env env, napi_callback_info info) {
  ARGS(2)
  conn* c = arg_conn(env, argv[0]);
  napi_value out;
  napi_get_undefined(env, &out);
  if (!c || c->state != S_WAITING) return out;
  int32_t max = arg_i32(env, argv[1]);
  if (max < 0) max = 0;
  if (max > SCRATCH_SIZE) max = SCRATCH_SIZE;
  c->peeking = 1;
  ssize_t n = recv(c->fd[0], E->scratch, (size_t)max, MSG_PEEK);
  int ended = c->rdhup[0];
  if (n < 0) {
    ended = ended || (errno != EAGAIN && errno != EINTR);
    n = 0;
  } else if (n == 0 && max > 0) {
    ended = 1;
  }
  napi_value buf, flag;
  napi_create_buffer_copy(env, (size_t)n, E->scratch, NULL, &buf);
  napi_get_boolean(env, ended, &flag);
  return pair(env, buf, flag);
}

// skip(cid, n): consumes n bytes the client sent (a PROXY header: not for the backend) → bytes consumed.
static napi_value js_skip(napi_env env, napi_callback_info info) {
  ARGS(2)
  conn* c = arg_conn(env, argv[0]);
  int32_t n = arg_i32(env, argv[1]), done = 0;
  while (c && c->state == S_WAITING && done < n) {
    size_t want = (size_t)(n - done) < SCRATCH_SIZE ? (size_t)(n - done) : SCRATCH_SIZE;
    ssize_t r = recv(c->fd[0], E->scratch, want, 0);
    if (r == 0 || (r < 0 && errno != EINTR)) break;
    if (r > 0) done += (int32_t)r;
  }
  return ret_i32(env, done);
}

// localAddress(cid) → [address, port] of the client connection's local end (for PROXY headers), or undefined.
static napi_value js_local_address(napi_env env, napi_callback_info info) {
  ARGS(1)
  conn* c = arg_conn(env, argv[0]);
  napi_value out;
  napi_get_undefined(env, &out);
  struct sockaddr_storage sa;
  socklen_t len = sizeof sa;
  if (!c || c->fd[0] < 0 || getsockname(c->fd[0], (struct sockaddr*)&sa, &len) < 0) return out;
  char ip[INET6_ADDRSTRLEN];
  int port = addr_text(&sa, ip);
  napi_value a;
  napi_create_string_latin1(env, ip, NAPI_AUTO_LENGTH, &a);
  return pair(env, a, ret_i32(env, port));
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
      finish(c, 0);  // unlinks c only; JavaScript hears of it at the end of the sweep
      c = next;
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
  flush_events();
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
  flush_events();
  free_released();
  return NULL;
}

// nextConnectionId(n): the next accepted connection gets id n (tests: ids past 2^32 without 2^32 accepts).
static napi_value js_next_connection_id(napi_env env, napi_callback_info info) {
  ARGS(1)
  E->next_id = (uint64_t)arg_f64(env, argv[0]) - 1;
  return NULL;
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
      {"peek", NULL, js_peek, NULL, NULL, NULL, napi_default, NULL},
      {"skip", NULL, js_skip, NULL, NULL, NULL, napi_default, NULL},
      {"sweep", NULL, js_sweep, NULL, NULL, NULL, napi_default, NULL},
      {"abort", NULL, js_abort, NULL, NULL, NULL, napi_default, NULL},
      {"nextConnectionId", NULL, js_next_connection_id, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}
